package syslog

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// maxCountDigits is the longest octet count read as one (RFC 6587 MSG-LEN).
// Ten digits already exceed any message size worth receiving.
const maxCountDigits = 10

// frameReader splits a TCP syslog stream into messages, detecting the framing
// of each message on its own:
//
//   - octet counting (RFC 6587 3.4.1): "<digits> <that many bytes>";
//   - non-transparent framing (RFC 6587 3.4.2): bytes up to LF or NUL, with a
//     CR before the LF dropped.
//
// A message longer than max is cut to max bytes and the rest of its frame is
// skipped, so the next message is read from its start. Results depend only on
// the bytes of the stream, never on how reads split it.
//
// A read that fails with a deadline error is returned to the caller and may
// be retried: nothing read is lost. Any other read error ends the stream: the
// bytes still held are returned as a last message, then the error.
type frameReader struct {
	r     io.Reader
	max   int
	buf   []byte
	start int // first unconsumed byte of buf
	end   int // end of the bytes read into buf

	skip     int   // bytes of an over-long counted frame still to discard
	skipLine bool  // discarding the rest of an over-long terminated message
	inLine   bool  // the message at start is known not to be octet counted
	err      error // the read error that ended the stream, once seen

	// Counters, read and reset by the owner.
	bytesRead     int64
	framingErrors int64
}

func newFrameReader(r io.Reader, max int) *frameReader {
	return &frameReader{r: r, max: max, buf: make([]byte, max+maxCountDigits+64)}
}

// next returns the next message and whether it was truncated. The message
// aliases the reader's buffer: it is valid until the next call.
func (f *frameReader) next() ([]byte, bool, error) {
	for {
		if msg, truncated, ok := f.parse(f.err != nil); ok {
			return msg, truncated, nil
		}
		if f.err != nil {
			return nil, false, f.err
		}
		if err := f.fill(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, false, err
			}
			f.err = err
		}
	}
}

// fill reads more bytes into buf, compacting it when its tail is short.
func (f *frameReader) fill() error {
	if f.start == f.end {
		f.start, f.end = 0, 0
	} else if len(f.buf)-f.end < len(f.buf)/4 {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.end += n
	f.bytesRead += int64(n)
	if n > 0 && err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		// Keep the bytes; the error comes back on the next read.
		f.err = err
		return nil
	}
	if n == 0 && err == nil {
		return nil
	}
	return err
}

// parse takes one message from the buffered bytes. atEOF says no more bytes
// will come, so a message still open is complete as it is.
func (f *frameReader) parse(atEOF bool) (msg []byte, truncated, ok bool) {
	for {
		data := f.buf[f.start:f.end]
		switch {
		case f.skip > 0:
			n := min(f.skip, len(data))
			f.start += n
			f.skip -= n
			if f.skip > 0 {
				if atEOF {
					f.skip = 0
				}
				return nil, false, false
			}
			continue
		case f.skipLine:
			i := indexTerminator(data)
			if i < 0 {
				f.start = f.end
				if atEOF {
					f.skipLine = false
				}
				return nil, false, false
			}
			f.start += i + 1
			f.skipLine = false
			continue
		case len(data) == 0:
			return nil, false, false
		}

		if isDigit(data[0]) && !f.inLine {
			msg, truncated, res := f.parseCounted(data, atEOF)
			switch res {
			case frameMessage:
				return msg, truncated, true
			case frameConsumed:
				continue
			case frameNeedMore:
				return nil, false, false
			}
			// A terminated message that starts with digits: decide only once,
			// as its end may be several reads away.
			f.inLine = true
		}

		msg, truncated, ok := f.parseTerminated(data, atEOF)
		if !ok {
			return nil, false, false
		}
		if len(msg) == 0 && !truncated {
			continue // a blank line between messages
		}
		return msg, truncated, true
	}
}

// frameResult says what parseCounted made of the bytes it was given.
type frameResult int

const (
	frameMessage    frameResult = iota // a message; its bytes are consumed
	frameConsumed                      // bytes consumed, no message (an empty frame)
	frameNeedMore                      // nothing consumed: the frame is incomplete
	frameNotCounted                    // nothing consumed: not an octet-counted frame
)

// parseCounted reads an octet-counted frame at the start of data.
func (f *frameReader) parseCounted(data []byte, atEOF bool) (msg []byte, truncated bool, res frameResult) {
	digits := 0
	for digits < len(data) && digits <= maxCountDigits && isDigit(data[digits]) {
		digits++
	}
	switch {
	case digits > maxCountDigits:
		return nil, false, frameNotCounted
	case digits == len(data):
		if atEOF {
			return nil, false, frameNotCounted
		}
		return nil, false, frameNeedMore // the count goes on in the next read
	case data[digits] != ' ':
		return nil, false, frameNotCounted
	}
	length := 0
	for _, c := range data[:digits] {
		length = length*10 + int(c-'0')
	}
	header := digits + 1
	payload := data[header:]

	switch {
	case length == 0:
		f.framingErrors++
		f.start += header
		return nil, false, frameConsumed

	case length > f.max:
		// An over-long count is believed only in front of a syslog PRI, so
		// that a plain line such as "1000000 packets dropped" cannot make the
		// reader swallow a megabyte of good messages.
		if len(payload) == 0 && !atEOF {
			return nil, false, frameNeedMore
		}
		if len(payload) == 0 || payload[0] != '<' {
			f.framingErrors++
			return nil, false, frameNotCounted
		}
		if len(payload) < f.max {
			if !atEOF {
				return nil, false, frameNeedMore
			}
			f.framingErrors++ // the stream ended inside the frame
			f.start = f.end
			return f.message(trimTrailer(payload), false)
		}
		f.start += header + f.max
		f.skip = length - f.max
		return payload[:f.max], true, frameMessage

	case len(payload) < length:
		if !atEOF {
			return nil, false, frameNeedMore
		}
		f.framingErrors++ // the stream ended inside the frame: keep what came
		f.start = f.end
		return f.message(trimTrailer(payload), false)
	}
	f.start += header + length
	return f.message(trimTrailer(payload[:length]), false)
}

// message reports msg, or that the frame held nothing but line endings.
func (f *frameReader) message(msg []byte, truncated bool) ([]byte, bool, frameResult) {
	if len(msg) == 0 {
		return nil, false, frameConsumed
	}
	return msg, truncated, frameMessage
}

// parseTerminated reads a message ended by LF or NUL at the start of data.
func (f *frameReader) parseTerminated(data []byte, atEOF bool) (msg []byte, truncated, ok bool) {
	// A message of max bytes may be followed by CR LF: look that far.
	window := data[:min(len(data), f.max+2)]
	if i := indexTerminator(window); i >= 0 {
		f.inLine = false
		f.start += i + 1
		msg = data[:i]
		if len(msg) > 0 && msg[len(msg)-1] == '\r' {
			msg = msg[:len(msg)-1]
		}
		if len(msg) > f.max {
			return msg[:f.max], true, true
		}
		return msg, false, true
	}
	if len(data) >= f.max+2 {
		f.inLine = false
		f.start += f.max
		f.skipLine = true
		return data[:f.max], true, true
	}
	if atEOF {
		f.inLine = false
		f.start = f.end
		msg = trimTrailer(data)
		if len(msg) > f.max {
			return msg[:f.max], true, true
		}
		return msg, false, true
	}
	return nil, false, false
}

// indexTerminator returns the index of the first LF or NUL in data, or -1.
func indexTerminator(data []byte) int {
	i := bytes.IndexByte(data, '\n')
	head := data
	if i >= 0 {
		head = data[:i]
	}
	if j := bytes.IndexByte(head, 0); j >= 0 {
		return j
	}
	return i
}

// trimTrailer drops trailing LF, CR and NUL bytes: a sender's line ending
// inside a counted frame or a datagram is framing, not message.
func trimTrailer(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\n', '\r', 0:
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
