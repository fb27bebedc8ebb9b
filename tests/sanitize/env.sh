# Sourced before running a sanitizer build's tests: full malloc stacks so that
# the Open MPI suppressions match (Debian's libraries have no frame pointers),
# fatal reports with a stack, and Open MPI's own leaks suppressed.
_imvar_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ASAN_OPTIONS=fast_unwind_on_malloc=0:detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export LSAN_OPTIONS=suppressions=$_imvar_root/tools/lsan-ompi.supp:print_suppressions=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87
export HWLOC_COMPONENTS=-x86
unset _imvar_root
