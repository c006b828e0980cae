# nomtag_add_plugin(NAME [OPTIONAL] SOURCES src... [LIBS lib...])
# Builds a bundled plugin as a loadable module named nomtag-NAME.so in the
# plugin directory of the build tree (and of the install tree). OPTIONAL
# puts it in the optional-plugins directory instead, which the bundled
# defaults (no plugins.yaml) do not load: for plugins that cannot work
# without settings, such as model files the package does not ship.
function(nomtag_add_plugin name)
  cmake_parse_arguments(ARG "OPTIONAL" "" "SOURCES;LIBS" ${ARGN})
  set(out_dir ${NOMTAG_PLUGIN_OUTPUT_DIR})
  set(install_dir ${NOMTAG_PLUGIN_INSTALL_DIR})
  if(ARG_OPTIONAL)
    set(out_dir ${NOMTAG_OPTIONAL_PLUGIN_OUTPUT_DIR})
    set(install_dir ${NOMTAG_OPTIONAL_PLUGIN_INSTALL_DIR})
  endif()
  add_library(nomtag-${name} MODULE ${ARG_SOURCES})
  target_link_libraries(nomtag-${name} PRIVATE nomtag::sdk ${ARG_LIBS})
  set_target_properties(nomtag-${name} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${out_dir})
  nomtag_module_exports(nomtag-${name} nomtag_entry)
  install(TARGETS nomtag-${name} LIBRARY DESTINATION ${install_dir})
endfunction()

# nomtag_module_exports(TARGET SYMBOL): a loadable module (a plugin, the
# audio module) that exports SYMBOL and nothing else — no inline or
# template symbols of the C++ library or of static libraries linked in,
# which could otherwise bind across modules — and whose undefined symbols
# are an error at link time, not at dlopen time (except in the fuzzing
# build: clang's sanitizer runtime is linked into the harness, and modules
# find it there when loaded).
function(nomtag_module_exports target symbol)
  if(NOT NOMTAG_FUZZ)
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.map)
  file(WRITE ${map} "{ global: ${symbol}; local: *; };\n")
  target_link_options(${target} PRIVATE -Wl,--version-script=${map})
endfunction()
