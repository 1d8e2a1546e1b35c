// Linux interfaces the daemon needs that Swift's Glibc module does not export.
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <grp.h>
