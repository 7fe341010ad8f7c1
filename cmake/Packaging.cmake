# `cmake --install` and the .deb (CPack). The layout:
#   bin/wanserve                          the binary (playground and documents compiled in)
#   lib/wanserve/libwanserve_*.so         the engine's modules, found from the binary's folder
#   lib/systemd/system/wanserve.service   the hardened Type=notify unit
#   share/doc/wanserve/                   README, operations and configuration guides, the example config
# and, in the package only, /etc/wanserve/wanserve.toml (a conffile the unit reads).
include(GNUInstallDirs)

install(TARGETS wanserve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(TARGETS wanserve_engine wanserve_tokenizer LIBRARY DESTINATION lib/wanserve COMPONENT server)
install(FILES packaging/wanserve.service DESTINATION lib/systemd/system COMPONENT server)
install(FILES README.md docs/operations.md docs/configuration.md docs/durability.md docs/scale-out.md
              docs/callbacks.md docs/dialects.md docs/engine.md docs/providers.md docs/pricing.md
              packaging/wanserve.toml
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
# Absolute and outside the default install, so only the package (whose root is /) writes to /etc;
# `cmake --install build --prefix ~/x` installs the server component alone.
install(FILES packaging/wanserve.toml DESTINATION /etc/wanserve COMPONENT config EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME wanserve)
set(CPACK_PACKAGE_VENDOR "wanserve")
set(CPACK_PACKAGE_CONTACT "wanserve maintainers <wanserve@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Wan image and video generation server with the providers' HTTP APIs")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# One package of both components (the config component is left out of a plain install).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL server config)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libopenblas0-openmp | libblas3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ffmpeg, sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
