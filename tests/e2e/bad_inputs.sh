#!/usr/bin/env bash
# The bad-input catalogue now lives in tests/bad-inputs (data files, cases.txt
# and a runner, registered in CTest as bad_inputs_np1 and bad_inputs_np3); this
# runs it as before. usage: bad_inputs.sh IMVAR RANKS WORKDIR SOURCE_DIR
here=$(cd "$(dirname "$0")" && pwd)
imvar=$1
mkbad=$(dirname "$imvar")/../../tests/bad-inputs/mkbad_h5
exec bash "$here/../bad-inputs/run" "$imvar" "$2" "$3" "$4" "$mkbad"
