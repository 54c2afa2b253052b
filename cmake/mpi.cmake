# Decides whether data-parallel training through MPI is built: DCGAN_MPI=ON requires MPI's C
# bindings; AUTO builds it when they are found; OFF never does. Sets DCGAN_HAVE_MPI, and with the
# CUDA backend looks for NCCL (NCCL_INCLUDE_DIR, NCCL_LIBRARY), which CMakeLists.txt uses when MPI is on.
set(DCGAN_HAVE_MPI OFF)
if(NOT DCGAN_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS C)
  if(MPI_C_FOUND)
    set(DCGAN_HAVE_MPI ON)
    message(STATUS "dcgan: MPI ON (MPI ${MPI_C_VERSION}: ${MPI_C_LIBRARIES})")
  elseif(DCGAN_MPI STREQUAL "ON")
    message(FATAL_ERROR "DCGAN_MPI=ON but MPI was not found (Debian: libopenmpi-dev openmpi-bin)")
  else()
    message(STATUS "dcgan: MPI OFF (not found): one process per run")
  endif()
endif()
if(DCGAN_HAVE_CUDA)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib64 lib)
endif()
