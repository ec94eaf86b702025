//go:build !linux

package syslog

import "syscall"

// oobSize is 0: only Linux reports the kernel's drop count.
var oobSize = 0

const msgTrunc = 0

// tuneUDPSocket returns -1: elsewhere Start sets the buffer through
// net.UDPConn.SetReadBuffer, which cannot report the size obtained.
func tuneUDPSocket(syscall.RawConn, int) (int, error) { return -1, nil }

func dropCount([]byte) (uint32, bool) { return 0, false }
