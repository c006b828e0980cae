# The library page (web/): TypeScript bundled by esbuild from npm at build
# time, then embedded into the binary (EmbedWebAssets.cmake). Sets
# NOMTAG_WEB_ASSETS_CC to the generated source.
#
# web/node_modules comes from `npm ci` (package-lock.json is committed);
# configure runs it when it is missing. NOMTAG_BUILD_WEB=OFF builds without
# npm and embeds a one-line page that says so.
option(NOMTAG_BUILD_WEB "Bundle the web page with npm (esbuild)" ON)
set(web_src ${CMAKE_SOURCE_DIR}/web)
set(web_dist ${CMAKE_BINARY_DIR}/web-dist)
set(NOMTAG_WEB_ASSETS_CC ${CMAKE_BINARY_DIR}/generated/web_assets.cc)

if(NOMTAG_BUILD_WEB)
  find_program(NODE node)
  find_program(NPM npm)
  if(NOT NODE OR NOT NPM)
    message(FATAL_ERROR "the web page needs Node.js and npm (or configure "
                        "with -DNOMTAG_BUILD_WEB=OFF)")
  endif()
  if(NOT EXISTS ${web_src}/node_modules/.package-lock.json)
    message(STATUS "web: npm ci")
    execute_process(COMMAND ${NPM} ci --no-audit --no-fund
                    WORKING_DIRECTORY ${web_src} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "web: npm ci failed")
    endif()
  endif()
  file(GLOB_RECURSE web_inputs CONFIGURE_DEPENDS
       ${web_src}/src/* ${web_src}/build.mjs ${web_src}/package-lock.json)
  add_custom_command(
    OUTPUT ${web_dist}/index.html ${web_dist}/app.js ${web_dist}/app.css
    COMMAND ${NODE} ${web_src}/build.mjs ${web_dist}
    DEPENDS ${web_inputs}
    WORKING_DIRECTORY ${web_src}
    COMMENT "Bundling the web page (esbuild)")
  set(web_outputs ${web_dist}/index.html ${web_dist}/app.js ${web_dist}/app.css)
else()
  file(WRITE ${web_dist}/index.html
       "<!doctype html><title>nomtag</title><p>This nomtag was built without "
       "its web page (NOMTAG_BUILD_WEB=OFF); the API under /api/web/ works.")
  set(web_outputs ${web_dist}/index.html)
endif()

add_custom_command(
  OUTPUT ${NOMTAG_WEB_ASSETS_CC}
  COMMAND ${CMAKE_COMMAND} -DDIST=${web_dist} -DOUT=${NOMTAG_WEB_ASSETS_CC}
          -P ${CMAKE_SOURCE_DIR}/cmake/EmbedWebAssets.cmake
  DEPENDS ${web_outputs} ${CMAKE_SOURCE_DIR}/cmake/EmbedWebAssets.cmake
  COMMENT "Embedding the web page")
