# `cmake --install`: the library (shared with a versioned SONAME, and static), hpool.h,
# hpool-bench with its data (gnuplot scripts, sample configs, the Python peer), a CMake
# package (find_package(hpool) -> hpool::hpool) and hpool.pc; `cpack -G DEB` packs the
# same tree. Paths are GNU ones (GNUInstallDirs); every installed file that names
# another one does so relative to itself, so `cmake --install build --prefix DIR`
# works for any DIR.
include(CMakePackageConfigHelpers)

set(HPOOL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/hpool)
set(HPOOL_DATA_DIR ${CMAKE_INSTALL_DATADIR}/hpool)

install(TARGETS hpool_shared hpool EXPORT hpoolTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/hpool.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
if(TARGET hpool-bench)
  install(TARGETS hpool-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()
# hpool-bench finds these at <bindir>/../share/hpool (bench/datadir.c).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/plots/ DESTINATION ${HPOOL_DATA_DIR}/plots
        COMPONENT runtime FILES_MATCHING PATTERN "*.gp")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${HPOOL_DATA_DIR}/configs
        COMPONENT runtime FILES_MATCHING PATTERN "*.ini" PATTERN "*.sbatch")
install(PROGRAMS ${PROJECT_SOURCE_DIR}/bench/peers/ppe.py
        DESTINATION ${HPOOL_DATA_DIR}/peers COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT runtime)

# The CMake package. hpoolConfig.cmake finds the same MPI (by its wrapper suffix),
# OpenMP and Threads, and the pkg-config modules the static library needs.
if(DEFINED MPI_EXECUTABLE_SUFFIX)
  set(HPOOL_CONFIG_MPI_SUFFIX "${MPI_EXECUTABLE_SUFFIX}")
else()
  set(HPOOL_CONFIG_MPI_SUFFIX "")
endif()
install(EXPORT hpoolTargets NAMESPACE hpool:: DESTINATION ${HPOOL_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/hpoolConfig.cmake.in
  ${PROJECT_BINARY_DIR}/hpoolConfig.cmake INSTALL_DESTINATION ${HPOOL_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/hpoolConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/hpoolConfig.cmake ${PROJECT_BINARY_DIR}/hpoolConfigVersion.cmake
        DESTINATION ${HPOOL_CMAKE_DIR} COMPONENT dev)

# hpool.pc: prefix relative to the .pc file's own directory (${pcfiledir}).
set(HPOOL_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH HPOOL_PC_TO_PREFIX /${HPOOL_PC_DIR} /)
string(REGEX REPLACE "/$" "" HPOOL_PC_TO_PREFIX "${HPOOL_PC_TO_PREFIX}")
string(JOIN " " HPOOL_PC_OPENMP ${OpenMP_C_FLAGS})
configure_file(${PROJECT_SOURCE_DIR}/cmake/hpool.pc.in ${PROJECT_BINARY_DIR}/hpool.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/hpool.pc DESTINATION ${HPOOL_PC_DIR} COMPONENT dev)

# cpack -G DEB: one package with everything (library, header, tools, data).
set(CPACK_PACKAGE_NAME hpool)
set(CPACK_PACKAGE_VENDOR "hpool")
set(CPACK_PACKAGE_CONTACT "hpool maintainers <hpool@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
if(HPOOL_MPI_FOUND_IMPL STREQUAL "mpich")
  set(HPOOL_DEB_MPI "mpich, libmpich-dev")
else()
  set(HPOOL_DEB_MPI "openmpi-bin, libopenmpi-dev")
endif()
# Runtime and development dependencies together: the package carries the header and the
# CMake/pkg-config files, which need the -dev packages to be usable.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "${HPOOL_DEB_MPI}, libhwloc-dev, libjansson-dev, libinih-dev, libgomp1, gnuplot-nox, pkg-config")
# shlibs file and the ldconfig trigger, so the library is found right after dpkg -i.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_STRIP_FILES OFF)
include(CPack)
