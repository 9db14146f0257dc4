// The public surface of the dockpol compiler library: compile sources to a
// verified program image, write or load bundles, bind and evaluate requests,
// disassemble. The reference evaluator (the tests' oracle) is not part of it:
// include dockpol/dsl/reference_eval.hpp where it is wanted.
#pragma once

#include "dockpol/dsl/compile.hpp"
#include "dockpol/dsl/front.hpp"
#include "dockpol/dsl/lower.hpp"
#include "dockpol/rt/bind.hpp"
#include "dockpol/rt/decide.hpp"
#include "dockpol/rt/bundle.hpp"
#include "dockpol/rt/disasm.hpp"
#include "dockpol/rt/signature.hpp"
#include "dockpol/rt/verifier.hpp"
#include "dockpol/rt/vm.hpp"
