// CRISP_CLI_PARSE(app, argc, argv): CLI11_PARSE with one exit code for every bad command line.
#pragma once
// CLI11 returns a different code per error kind (104 for a bad number, 109 for an unknown
// option, ...), so a script cannot tell "you called it wrong" from other failures without a
// table. The programs return 2, as most Unix tools do; --help and --version still return 0.
#include <CLI/CLI.hpp>

#define CRISP_CLI_PARSE(app, argc, argv)          \
  do {                                            \
    try {                                         \
      (app).parse((argc), (argv));                \
    } catch (const CLI::ParseError& parse_error) { \
      return (app).exit(parse_error) == 0 ? 0 : 2; \
    }                                             \
  } while (false)
