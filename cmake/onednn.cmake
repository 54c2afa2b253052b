# Decides whether the oneDNN CPU backend is built: DCGAN_ONEDNN=ON requires oneDNN (Debian's
# libdnnl-dev); AUTO builds it when found; OFF never does. Sets DCGAN_HAVE_ONEDNN and, when ON, the imported target dcgan::dnnl.
set(DCGAN_HAVE_ONEDNN OFF)
if(NOT DCGAN_ONEDNN STREQUAL "OFF")
  # The header and the library, not dnnl-config.cmake: Debian's build is configured for its OpenCL
  # GPU runtime, and its config fails without the OpenCL headers, which the CPU engine never uses.
  find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.h)
  find_library(DNNL_LIBRARY dnnl)
  if(DNNL_INCLUDE_DIR AND DNNL_LIBRARY)
    add_library(dcgan::dnnl INTERFACE IMPORTED)
    target_include_directories(dcgan::dnnl INTERFACE ${DNNL_INCLUDE_DIR})
    target_link_libraries(dcgan::dnnl INTERFACE ${DNNL_LIBRARY})
    set(DCGAN_HAVE_ONEDNN ON)
  endif()
  if(DCGAN_HAVE_ONEDNN)
    message(STATUS "dcgan: oneDNN backend ON (${DNNL_LIBRARY})")
  elseif(DCGAN_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "DCGAN_ONEDNN=ON but oneDNN was not found (apt-get install libdnnl-dev)")
  else()
    message(STATUS "dcgan: oneDNN backend OFF (oneDNN not found: apt-get install libdnnl-dev)")
  endif()
endif()
