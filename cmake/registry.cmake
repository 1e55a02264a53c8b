# The folders of the sinks (src/sinks/<name>/) and of the receivers that own a config section
# (src/receivers/<name>/): each one's CMakeLists.txt calls stackhouse_sink() or
# stackhouse_receiver() for its library, the folders are found by their presence, and each kind's
# registry links every library of its kind.

# stackhouse_registered(<kind> <name> SOURCES <files> [LIBS <libraries>]
#                       [PRIVATE_LIBS <libraries>]): the library stackhouse_<kind>_<name>, which
# has the config library and the pipeline, appended to the global property
# STACKHOUSE_<kind>_LIBRARIES for its registry.
function(stackhouse_registered kind name)
  cmake_parse_arguments(ONE "" "" "SOURCES;LIBS;PRIVATE_LIBS" ${ARGN})
  set(target stackhouse_${kind}_${name})
  add_library(${target} ${ONE_SOURCES})
  target_link_libraries(${target} PUBLIC stackhouse_pipeline stackhouse_config ${ONE_LIBS}
    PRIVATE ${ONE_PRIVATE_LIBS})
  stackhouse_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY STACKHOUSE_${kind}_LIBRARIES ${target})
endfunction()

function(stackhouse_sink name)
  stackhouse_registered(sinks ${name} ${ARGN})
endfunction()

function(stackhouse_receiver name)
  stackhouse_registered(receivers ${name} ${ARGN})
endfunction()

# Adds every folder of the current source directory that has a CMakeLists.txt, but `except`.
function(stackhouse_add_registered_folders)
  cmake_parse_arguments(ADD "" "" "EXCEPT" ${ARGN})
  file(GLOB folders LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(folder ${folders})
    get_filename_component(name ${folder} NAME)
    if(IS_DIRECTORY ${folder} AND EXISTS ${folder}/CMakeLists.txt AND NOT name IN_LIST ADD_EXCEPT)
      add_subdirectory(${name})
    endif()
  endforeach()
endfunction()

# The registry library `target` of `kind` (sinks, receivers) from `source`, linking every library
# of its kind.
function(stackhouse_registry target kind source)
  get_property(libraries GLOBAL PROPERTY STACKHOUSE_${kind}_LIBRARIES)
  add_library(${target} ${source})
  target_link_libraries(${target} PUBLIC stackhouse_config ${libraries})
  stackhouse_warnings(${target})
endfunction()
