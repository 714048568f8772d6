# FindStb: the single-file public-domain libraries stb_image.h / stb_image_write.h (Debian
# libstb-dev puts them in /usr/include/stb; vcpkg and others in include/ or include/stb).
#
# Result: Stb_FOUND, Stb_INCLUDE_DIR (the directory holding stb_image.h) and the INTERFACE target
# Stb::Stb, which adds that directory to the include path: crisp's headers #include <stb_image.h>.
# Hint: set Stb_INCLUDE_DIR (or STB_ROOT / CMAKE_PREFIX_PATH) to pick a copy.
find_path(Stb_INCLUDE_DIR
  NAMES stb_image.h
  PATH_SUFFIXES stb
  DOC "Directory containing stb_image.h and stb_image_write.h")

if(Stb_INCLUDE_DIR AND NOT EXISTS "${Stb_INCLUDE_DIR}/stb_image_write.h")
  message(STATUS "FindStb: ${Stb_INCLUDE_DIR} has stb_image.h but no stb_image_write.h")
  set(Stb_INCLUDE_DIR Stb_INCLUDE_DIR-NOTFOUND CACHE PATH "" FORCE)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Stb REQUIRED_VARS Stb_INCLUDE_DIR)
mark_as_advanced(Stb_INCLUDE_DIR)

if(Stb_FOUND AND NOT TARGET Stb::Stb)
  add_library(Stb::Stb INTERFACE IMPORTED)
  set_target_properties(Stb::Stb PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${Stb_INCLUDE_DIR}")
endif()
