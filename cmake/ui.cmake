# The web UI (ui/): `vite build` into <build>/ui-dist, each file gzip-compressed beside it, then
# embedded in the binary as a generated .cc (cmake/embed_ui.cmake). The build reruns only when a
# file under ui/src, the page, the Vite config or the lockfile changes.
#
# Defines STACKHOUSE_UI_ASSETS_CC: the generated source to compile into the web library.
option(STACKHOUSE_UI "Build the web UI into the binary (needs node and ui/node_modules)" ON)

set(UI_SOURCE_DIR ${CMAKE_SOURCE_DIR}/ui)
set(UI_DIST_DIR ${CMAKE_BINARY_DIR}/ui-dist)
set(STACKHOUSE_UI_ASSETS_CC ${CMAKE_BINARY_DIR}/generated/ui_assets.cc)

find_program(UI_NODE_EXECUTABLE node)
if(STACKHOUSE_UI AND (NOT UI_NODE_EXECUTABLE))
  message(WARNING "node not found: the binary is built without the web UI")
  set(STACKHOUSE_UI OFF)
endif()

if(STACKHOUSE_UI AND NOT EXISTS ${UI_SOURCE_DIR}/node_modules/vite/bin/vite.js)
  message(WARNING "ui/node_modules is missing: run scripts/setup.sh (npm ci in ui/) before building")
endif()

if(STACKHOUSE_UI)
  file(GLOB_RECURSE ui_sources CONFIGURE_DEPENDS ${UI_SOURCE_DIR}/src/* ${UI_SOURCE_DIR}/public/*)
  set(ui_stamp ${UI_DIST_DIR}/.built)
  add_custom_command(
    OUTPUT ${ui_stamp}
    COMMAND ${CMAKE_COMMAND} -E echo "ui: type check and vite build"
    COMMAND ${UI_NODE_EXECUTABLE} node_modules/typescript/bin/tsc --noEmit -p .
    COMMAND ${UI_NODE_EXECUTABLE} node_modules/vite/bin/vite.js build --logLevel warn
            --outDir ${UI_DIST_DIR} --emptyOutDir
    COMMAND ${UI_NODE_EXECUTABLE} scripts/compress.mjs ${UI_DIST_DIR}
    COMMAND ${CMAKE_COMMAND} -E touch ${ui_stamp}
    WORKING_DIRECTORY ${UI_SOURCE_DIR}
    DEPENDS ${ui_sources} ${UI_SOURCE_DIR}/index.html ${UI_SOURCE_DIR}/vite.config.ts
            ${UI_SOURCE_DIR}/tsconfig.json ${UI_SOURCE_DIR}/package-lock.json
            ${UI_SOURCE_DIR}/scripts/compress.mjs
    COMMENT "Building the web UI (ui/)"
    VERBATIM)
  add_custom_command(
    OUTPUT ${STACKHOUSE_UI_ASSETS_CC}
    COMMAND ${CMAKE_COMMAND} -DUI_DIST=${UI_DIST_DIR} -DOUTPUT=${STACKHOUSE_UI_ASSETS_CC}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_ui.cmake
    DEPENDS ${ui_stamp} ${CMAKE_SOURCE_DIR}/cmake/embed_ui.cmake
    COMMENT "Embedding the web UI"
    VERBATIM)
else()
  add_custom_command(
    OUTPUT ${STACKHOUSE_UI_ASSETS_CC}
    COMMAND ${CMAKE_COMMAND} -DUI_DIST= -DOUTPUT=${STACKHOUSE_UI_ASSETS_CC}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_ui.cmake
    DEPENDS ${CMAKE_SOURCE_DIR}/cmake/embed_ui.cmake
    VERBATIM)
endif()
