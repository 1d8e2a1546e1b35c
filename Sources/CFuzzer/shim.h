// libFuzzer's driver entry point (compiler-rt). Only linked when hnfuzz is built with
// -sanitize=fuzzer; the declaration costs nothing otherwise.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
