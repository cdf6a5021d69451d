# Install rules and the Debian package (CPack), from the same project:
#   cmake --build build --target procevents_exporter && cpack --config build/CPackConfig.cmake -B OUTDIR
# gives OUTDIR/procevents-exporter_<version>_<arch>.deb. Checked by tests/deploy/check_package.sh (contents,
# metadata, lintian) and proven by deploy/verify-deb.sh (apt install into a clean bookworm root, then a workload).
#
# Components: "runtime" is what runs (binary, default config: the container image installs only
# it); "service" is the systemd unit, its defaults file and the documentation.
include(GNUInstallDirs)

install(TARGETS procevents_exporter RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
# The unit, the image and the docs all name /etc/procevents_exporter, whatever the prefix.
install(FILES ${PROJECT_SOURCE_DIR}/config/procevents.yml DESTINATION /etc/procevents_exporter COMPONENT runtime)

install(FILES ${PROJECT_SOURCE_DIR}/deploy/debian/procevents_exporter.default DESTINATION /etc/default
        RENAME procevents_exporter COMPONENT service)
# The shipped unit names /usr/local/ (a manual install); the installed one names the real prefix, known
# only at install time (cpack installs with /usr).
install(CODE "
  file(READ \"${PROJECT_SOURCE_DIR}/deploy/systemd/procevents_exporter.service\" unit)
  string(REPLACE \"/usr/local/\" \"\${CMAKE_INSTALL_PREFIX}/\" unit \"\${unit}\")
  file(WRITE \"\$ENV{DESTDIR}/lib/systemd/system/procevents_exporter.service\" \"\${unit}\")
  " COMPONENT service)
set(procevents_docdir ${CMAKE_INSTALL_DATAROOTDIR}/doc/procevents-exporter)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md ${PROJECT_SOURCE_DIR}/docs/runbook.md
              ${PROJECT_SOURCE_DIR}/deploy/debian/copyright
        DESTINATION ${procevents_docdir} COMPONENT service)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/prometheus/procevents.rules.yml ${PROJECT_SOURCE_DIR}/dashboards/procevents.json
        DESTINATION ${procevents_docdir}/examples COMPONENT service)
# Debian wants man pages and changelogs compressed, reproducibly (no name or time in the gzip header). A
# native package's changelog.gz is in Debian's format: one entry pointing at the upstream CHANGELOG.md.
set(PROCEVENTS_PACKAGE_MAINTAINER "procevents_exporter maintainers <maintainers@procevents-exporter.invalid>"
    CACHE STRING "The Debian package's Maintainer field")
# Dated like --version's build date: the commit's time (CMakeLists.txt), so the same commit packs the same.
set(saved_epoch "$ENV{SOURCE_DATE_EPOCH}")
if(procevents_epoch MATCHES "^[0-9]+$")
  set(ENV{SOURCE_DATE_EPOCH} ${procevents_epoch})
endif()
string(TIMESTAMP procevents_changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(ENV{SOURCE_DATE_EPOCH} "${saved_epoch}")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian
"procevents-exporter (${PROJECT_VERSION}) unstable; urgency=medium

  * Release ${PROJECT_VERSION}: see /usr/share/doc/procevents-exporter/CHANGELOG.md.

 -- ${PROCEVENTS_PACKAGE_MAINTAINER}  ${procevents_changelog_date}
")
add_custom_command(OUTPUT procevents_exporter.1.gz changelog.gz
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/docs/procevents_exporter.1 > procevents_exporter.1.gz
  COMMAND gzip -9n -c ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian > changelog.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/docs/procevents_exporter.1 ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian)
add_custom_target(procevents_compressed_docs ALL
  DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/procevents_exporter.1.gz ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz)
add_dependencies(procevents_exporter procevents_compressed_docs)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/procevents_exporter.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT service)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz DESTINATION ${procevents_docdir} COMPONENT service)

# `cmake --install` / cpack must not build everything (tests, benchmarks) first: build the two targets.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME procevents-exporter)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "procevents_exporter")
set(CPACK_PACKAGE_CONTACT "${PROCEVENTS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Prometheus exporter for Linux process events (fork, exec, exit)")
set(CPACK_PACKAGE_DESCRIPTION
  "Subscribes to the kernel's process events connector and taskstats exit records\n\
and exports per-group counts of forks, execs, exits, signals and core dumps,\n\
process lifetimes, and what finished processes cost, including processes too\n\
short-lived for /proc scraping exporters to see.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps finds the libraries (libyaml-cpp0.7, libre2-9, libssl3, ...) so apt resolves them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
  ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
