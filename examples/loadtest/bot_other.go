//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where process groups are not available: a bot
// run with `go run` may then leave its binary behind; run a built binary.
func ownGroup(*exec.Cmd) {}

// signalGroup kills cmd (kill) or interrupts it.
func signalGroup(cmd *exec.Cmd, kill bool) {
	if kill {
		_ = cmd.Process.Kill()
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
}
