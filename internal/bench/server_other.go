//go:build !linux

package bench

import (
	"os/exec"
	"time"
)

// setParentDeathSignal has no portable equivalent off Linux.
func setParentDeathSignal(*exec.Cmd) {}

// selfCPU is not measured off Linux.
func selfCPU() time.Duration { return 0 }
