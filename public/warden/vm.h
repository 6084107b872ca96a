// warden's core (find_package(warden COMPONENTS core), warden::vm): decode, validate, compile and
// run WebAssembly modules with fuel, deadlines and bounded memory. Standard library only.
#pragma once

#include "validator/load_module.h"
#include "vm/module_interface.h"
#include "vm/store.h"
