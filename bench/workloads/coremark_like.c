// A CoreMark-like mix (not CoreMark): linked-list search and reversal, a small matrix kernel,
// a state machine over a text buffer, and CRC-16 over the results.
#include <stdint.h>
#include <stdio.h>

static uint16_t crc16(uint16_t crc, uint32_t value, int bytes) {
  for (int b = 0; b < bytes; ++b) {
    crc ^= (uint8_t)(value >> (8 * b));
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
  }
  return crc;
}

struct node { struct node* next; int32_t value; };
static struct node nodes[512];

static struct node* reverse(struct node* list) {
  struct node* prev = 0;
  while (list) {
    struct node* next = list->next;
    list->next = prev;
    prev = list;
    list = next;
  }
  return prev;
}

static int32_t list_work(struct node* head, int32_t seed) {
  int32_t found = 0;
  for (struct node* n = head; n; n = n->next) {
    if ((n->value ^ seed) % 7 == 0) ++found;
    n->value = n->value * 3 + seed;
  }
  return found;
}

#define M 24
static int32_t ma[M][M], mb[M][M], mc[M][M];

static int32_t matrix_work(int32_t seed) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j) ma[i][j] = (i * j + seed) & 0xff, mb[i][j] = (i + j * seed) & 0xff;
  int32_t sum = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j) {
      int32_t acc = 0;
      for (int k = 0; k < M; ++k) acc += ma[i][k] * mb[k][j];
      mc[i][j] = acc;
      sum += acc > 1000 ? acc >> 3 : acc;
    }
  return sum;
}

static const char text[] = "123,-45.6e7, 0x1f  + 98.7E-2 ,abc, 5e, -.5, 42 ;; 3.14159,2.71828e+0";

static int32_t state_machine(int32_t seed) {
  enum { START, INT, FLOAT, EXP, INVALID } state = START;
  int32_t counts[5] = {0};
  for (int rep = 0; rep < 4; ++rep) {
    for (const char* p = text; *p; ++p) {
      const char c = (char)(*p ^ (char)((seed + rep) & 1));
      if (c == ',' || c == ' ' || c == ';') {
        ++counts[state];
        state = START;
        continue;
      }
      switch (state) {
        case START: state = (c >= '0' && c <= '9') || c == '-' ? INT : c == '.' ? FLOAT : INVALID; break;
        case INT: state = c == '.' ? FLOAT : (c == 'e' || c == 'E') ? EXP : (c >= '0' && c <= '9') ? INT : INVALID; break;
        case FLOAT: state = (c == 'e' || c == 'E') ? EXP : (c >= '0' && c <= '9') ? FLOAT : INVALID; break;
        case EXP: state = (c >= '0' && c <= '9') || c == '-' || c == '+' ? EXP : INVALID; break;
        case INVALID: break;
      }
    }
  }
  return counts[0] + counts[1] * 3 + counts[2] * 5 + counts[3] * 7 + counts[4] * 11;
}

int main(void) {
  for (int i = 0; i < 512; ++i) nodes[i].next = i + 1 < 512 ? &nodes[i + 1] : 0, nodes[i].value = i;
  struct node* head = &nodes[0];
  uint16_t crc = 0;
  for (int32_t iter = 0; iter < 6000; ++iter) {
    crc = crc16(crc, (uint32_t)list_work(head, iter), 4);
    head = reverse(head);
    crc = crc16(crc, (uint32_t)matrix_work(iter & 0xff), 4);
    crc = crc16(crc, (uint32_t)state_machine(iter), 2);
  }
  printf("checksum: %u\n", crc);
  return 0;
}
