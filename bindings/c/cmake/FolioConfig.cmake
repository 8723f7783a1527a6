# FolioConfig.cmake: find_package(Folio) support. Defines the imported target Folio::folio (libfolio.so + folio.h).
#
# Works from a source checkout: the header is native/include/folio.h, the library is looked up in
#   -DFOLIO_LIBRARY_DIR=... / $FOLIO_LIBRARY_DIR, then artifacts/libfolio (scripts/publish-libfolio.sh puts it there).
# Point CMake here with -DFolio_DIR=<repo>/bindings/c/cmake (or CMAKE_PREFIX_PATH).
get_filename_component(_folio_root "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

find_path(FOLIO_INCLUDE_DIR folio.h HINTS "${_folio_root}/native/include" NO_DEFAULT_PATH)
find_library(FOLIO_LIBRARY NAMES folio
    HINTS "${FOLIO_LIBRARY_DIR}" "$ENV{FOLIO_LIBRARY_DIR}" "${_folio_root}/artifacts/libfolio" NO_DEFAULT_PATH)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Folio
    REQUIRED_VARS FOLIO_LIBRARY FOLIO_INCLUDE_DIR
    VERSION_VAR Folio_VERSION
    REASON_FAILURE_MESSAGE "publish libfolio.so first: scripts/publish-libfolio.sh (or set FOLIO_LIBRARY_DIR)")

if(Folio_FOUND AND NOT TARGET Folio::folio)
    add_library(Folio::folio SHARED IMPORTED)
    set_target_properties(Folio::folio PROPERTIES
        IMPORTED_LOCATION "${FOLIO_LIBRARY}"
        IMPORTED_SONAME "libfolio.so.${Folio_VERSION_MAJOR}"
        INTERFACE_INCLUDE_DIRECTORIES "${FOLIO_INCLUDE_DIR}")
endif()
