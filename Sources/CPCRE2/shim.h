// A module map cannot define macros: select the 8-bit code unit width here.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
