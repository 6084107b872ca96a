// A Go (wasip1) Extism guest built with the standard Go compiler. Before Go 1.24 it can export
// only _start, which is how Extism runs such plugins. It reads the call's input and writes its
// output through extism:host/env directly (the Go PDK is not reachable from here), and uses the
// WASI calls Go's runtime and standard library make: args, environ, clocks, random, files and
// directories on the mounts, stdout/stderr, and sleeping (poll_oneoff).
//
// The input is one command per line; the output is one line per command (see run below).
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

//go:wasmimport extism:host/env input_length
func inputLength() uint64

//go:wasmimport extism:host/env input_load_u8
func inputLoadU8(offset uint64) uint32

//go:wasmimport extism:host/env alloc
func alloc(n uint64) uint64

//go:wasmimport extism:host/env store_u8
func storeU8(handle uint64, value uint32)

//go:wasmimport extism:host/env output_set
func outputSet(handle uint64, length uint64)

func input() string {
	b := make([]byte, inputLength())
	for i := range b {
		b[i] = byte(inputLoadU8(uint64(i)))
	}
	return string(b)
}

func toKernel(s string) uint64 {
	h := alloc(uint64(len(s)))
	for i := 0; i < len(s); i++ {
		storeU8(h+uint64(i), uint32(s[i]))
	}
	return h
}

// run executes one command and returns its line.
func run(command string) string {
	verb, arg, _ := strings.Cut(command, " ")
	switch verb {
	case "sort": // the words of arg, sorted
		words := strings.Fields(arg)
		sort.Strings(words)
		return strings.Join(words, " ")
	case "sha256": // of arg's bytes
		return fmt.Sprintf("%x", sha256.Sum256([]byte(arg)))
	case "args": // how many arguments and environment variables the host gave
		return fmt.Sprintf("%d %d", len(os.Args), len(os.Environ()))
	case "random": // 32 random bytes are not all zero
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "error: " + err.Error()
		}
		for _, x := range b {
			if x != 0 {
				return "ok"
			}
		}
		return "all zero"
	case "sleep": // arg milliseconds; says whether at least that much time passed
		var ms int
		fmt.Sscan(arg, &ms)
		start := time.Now()
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return fmt.Sprint(time.Since(start) >= time.Duration(ms)*time.Millisecond)
	case "read": // the file arg
		b, err := os.ReadFile(arg)
		if err != nil {
			return "error: " + err.Error()
		}
		return string(b)
	case "list": // the names in directory arg
		entries, err := os.ReadDir(arg)
		if err != nil {
			return "error: " + err.Error()
		}
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return strings.Join(names, ",")
	case "write": // "PATH TEXT": writes TEXT to PATH, then reads it back
		path, text, _ := strings.Cut(arg, " ")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return "error: " + err.Error()
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "error: " + err.Error()
		}
		return string(b)
	case "print": // arg to stdout and stderr (shown only when the host enables them)
		fmt.Println(arg)
		fmt.Fprintln(os.Stderr, arg)
		return "printed"
	case "exit": // os.Exit(arg)
		var code int
		fmt.Sscan(arg, &code)
		os.Exit(code)
	}
	return "unknown command " + verb
}

func main() {
	var lines []string
	for _, command := range strings.Split(input(), "\n") {
		if command != "" {
			lines = append(lines, run(command))
		}
	}
	out := strings.Join(lines, "\n")
	outputSet(toKernel(out), uint64(len(out)))
}
