# nomtag_sdk_add_plugin(TARGET SOURCES src...)
# For third-party plugins: a loadable module with hidden visibility, linked
# against the SDK, exporting only the nomtag entry symbol.
function(nomtag_sdk_add_plugin target)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE nomtag::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  # Export the entry symbol and nothing else.
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.map)
  file(WRITE ${map} "{ global: nomtag_entry; local: *; };\n")
  target_link_options(${target} PRIVATE -Wl,--version-script=${map})
endfunction()
