// A switch-dispatched bytecode interpreter running a counting program: br_table heavy.
#include <stdint.h>
#include <stdio.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, LT, JNZ, JMP, DUP, DROP, HALT };

static const int32_t program[] = {
    PUSH, 0, STORE, 0,           // i = 0
    PUSH, 1, STORE, 1,           // h = 1
    LOAD, 1, PUSH, 31, MUL,      // h * 31
    LOAD, 0, XOR,                // ^ i
    DUP, PUSH, 7, SHR, XOR,      // h ^= h >> 7
    STORE, 1,
    LOAD, 0, PUSH, 1, ADD, DUP, STORE, 0,
    PUSH, 2000000, LT, JNZ, 8,   // while (++i < 3000000)
    LOAD, 1, HALT};

static int32_t run(const int32_t* code) {
  int32_t stack[64], vars[4] = {0};
  int sp = 0, pc = 0;
  for (;;) {
    switch (code[pc++]) {
      case PUSH: stack[sp++] = code[pc++]; break;
      case LOAD: stack[sp++] = vars[code[pc++]]; break;
      case STORE: vars[code[pc++]] = stack[--sp]; break;
      case ADD: --sp; stack[sp - 1] += stack[sp]; break;
      case SUB: --sp; stack[sp - 1] -= stack[sp]; break;
      case MUL: --sp; stack[sp - 1] *= stack[sp]; break;
      case XOR: --sp; stack[sp - 1] ^= stack[sp]; break;
      case SHR: --sp; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] >> stack[sp]); break;
      case LT: --sp; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case JNZ: { const int32_t t = code[pc++]; if (stack[--sp]) pc = t; break; }
      case JMP: pc = code[pc]; break;
      case DUP: stack[sp] = stack[sp - 1]; ++sp; break;
      case DROP: --sp; break;
      case HALT: return stack[sp - 1];
    }
  }
}

int main(void) {
  uint32_t sum = 0;
  for (int rep = 0; rep < 2; ++rep) sum = sum * 17 + (uint32_t)run(program);
  printf("checksum: %u\n", sum);
  return 0;
}
