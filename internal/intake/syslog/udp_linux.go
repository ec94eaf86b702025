package syslog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// oobSize holds one SO_RXQ_OVFL control message (a uint32).
var oobSize = syscall.CmsgSpace(4)

const msgTrunc = syscall.MSG_TRUNC

// tuneUDPSocket asks for a receive buffer of size bytes and for the kernel's
// per-socket drop counter, and returns the buffer size obtained.
// SO_RCVBUFFORCE goes past net.core.rmem_max for a process with
// CAP_NET_ADMIN; SO_RCVBUF is the unprivileged fallback.
func tuneUDPSocket(c syscall.RawConn, size int) (int, error) {
	var got int
	var errs []error
	err := c.Control(func(fd uintptr) {
		s := int(fd)
		if syscall.SetsockoptInt(s, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size) != nil {
			if err := syscall.SetsockoptInt(s, syscall.SOL_SOCKET, syscall.SO_RCVBUF, size); err != nil {
				errs = append(errs, fmt.Errorf("set SO_RCVBUF %d: %w", size, err))
			}
		}
		if err := syscall.SetsockoptInt(s, syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1); err != nil {
			errs = append(errs, fmt.Errorf("set SO_RXQ_OVFL: %w", err))
		}
		v, err := syscall.GetsockoptInt(s, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		if err != nil {
			errs = append(errs, fmt.Errorf("get SO_RCVBUF: %w", err))
			return
		}
		got = v / 2 // Linux reports twice the size set, counting its bookkeeping
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("socket control: %w", err))
	}
	return got, errors.Join(errs...)
}

// dropCount reads the SO_RXQ_OVFL counter (datagrams the kernel dropped on
// this socket since it opened) from a read's control messages. It parses the
// headers in place: syscall.ParseSocketControlMessage allocates per read.
func dropCount(oob []byte) (uint32, bool) {
	const hdr = syscall.SizeofCmsghdr
	lenSize := hdr - 8 // Cmsghdr is {Len uintptr-sized; Level, Type int32}
	for len(oob) >= hdr {
		var l uint64
		if lenSize == 8 {
			l = binary.NativeEndian.Uint64(oob)
		} else {
			l = uint64(binary.NativeEndian.Uint32(oob))
		}
		if l < hdr || l > uint64(len(oob)) {
			return 0, false
		}
		level := int32(binary.NativeEndian.Uint32(oob[lenSize:]))
		typ := int32(binary.NativeEndian.Uint32(oob[lenSize+4:]))
		if level == syscall.SOL_SOCKET && typ == syscall.SO_RXQ_OVFL && l >= hdr+4 {
			return binary.NativeEndian.Uint32(oob[hdr:]), true
		}
		next := syscall.CmsgSpace(int(l) - hdr)
		if next > len(oob) {
			return 0, false
		}
		oob = oob[next:]
	}
	return 0, false
}
