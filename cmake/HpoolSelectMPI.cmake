# Picks one MPI implementation for everything: compiler wrapper, headers, library and
# launcher. Debian installs both Open MPI and MPICH side by side, each wrapper with its
# suffix (mpicc.openmpi, mpicc.mpich); FindMPI looks for "mpicc${MPI_EXECUTABLE_SUFFIX}"
# and "mpiexec${MPI_EXECUTABLE_SUFFIX}" and asks that wrapper for the include and link
# flags, so one suffix keeps all four consistent. Setting only CMAKE_C_COMPILER would
# mix Open MPI's headers with MPICH's library (or the reverse).
if(HPOOL_MPI STREQUAL "mpich")
  set(MPI_EXECUTABLE_SUFFIX .mpich)
elseif(HPOOL_MPI STREQUAL "openmpi")
  set(MPI_EXECUTABLE_SUFFIX .openmpi)
elseif(NOT HPOOL_MPI STREQUAL "")
  message(FATAL_ERROR "HPOOL_MPI='${HPOOL_MPI}': use openmpi, mpich or leave it empty")
endif()
# Switching HPOOL_MPI in an existing build directory: forget what FindMPI cached for the
# other implementation (wrappers, headers, libraries, launcher), keep the launcher flags.
if(NOT "${HPOOL_MPI_CONFIGURED}" STREQUAL "${HPOOL_MPI}")
  get_cmake_property(hpool_cached CACHE_VARIABLES)
  foreach(var ${hpool_cached})
    if(var MATCHES "^(MPI_|MPIEXEC_EXECUTABLE$|MPIEXEC_MAX_NUMPROCS$|MPIEXEC_NUMPROC_FLAG$)")
      unset(${var} CACHE)
    endif()
  endforeach()
endif()
# Runs a tiny MPI_Get_library_version program at configure time: the check below needs it.
set(MPI_DETERMINE_LIBRARY_VERSION ON)

# After find_package(MPI): check that the library found is the one asked for (a build
# directory configured for the other MPI keeps its cached paths), and remember which it
# is for hpool.pc (HPOOL_MPI_PKGCONFIG: the MPI's own pkg-config module).
function(hpool_check_mpi)
  set(ver "${MPI_C_LIBRARY_VERSION_STRING}")
  if(ver MATCHES "MPICH")
    set(found mpich)
    set(pc mpich)
  elseif(ver MATCHES "Open MPI")
    set(found openmpi)
    set(pc ompi-c)
  else()
    set(found other)
    set(pc "")
  endif()
  if(NOT HPOOL_MPI STREQUAL "" AND NOT HPOOL_MPI STREQUAL found)
    message(FATAL_ERROR "HPOOL_MPI=${HPOOL_MPI} but the MPI found is '${ver}' "
            "(${MPI_C_COMPILER}): configure in a fresh build directory")
  endif()
  get_filename_component(exe "${MPIEXEC_EXECUTABLE}" NAME)
  if(DEFINED MPI_EXECUTABLE_SUFFIX AND NOT exe MATCHES "${MPI_EXECUTABLE_SUFFIX}$")
    message(FATAL_ERROR "HPOOL_MPI=${HPOOL_MPI} but the launcher is ${MPIEXEC_EXECUTABLE}: "
            "configure in a fresh build directory")
  endif()
  set(HPOOL_MPI_CONFIGURED "${HPOOL_MPI}" CACHE INTERNAL "HPOOL_MPI of the last good configure")
  message(STATUS "hpool: MPI ${found} (${MPI_C_COMPILER}, launcher ${MPIEXEC_EXECUTABLE})")
  set(HPOOL_MPI_FOUND_IMPL ${found} PARENT_SCOPE)
  set(HPOOL_MPI_PKGCONFIG "${pc}" PARENT_SCOPE)
endfunction()
