package tail

import "bytes"

// nextRecord finds the record at the start of data. A record is a line
// without its "\n" or "\r\n", or, for a line longer than max, the next max
// bytes of it. It returns the record, how many bytes it spans with its line
// ending (adv), and false when data does not hold a whole record yet. With
// final set, what is left of data is a record even without a line ending:
// the file will not grow any more.
//
// The rule depends only on the bytes from the record's start, so splitting
// a range of the file again after a restart gives the same records.
func nextRecord(data []byte, max int, final bool) (rec []byte, adv int, ok bool) {
	if len(data) == 0 {
		return nil, 0, false
	}
	if i := bytes.IndexByte(data[:min(len(data), max)], '\n'); i >= 0 {
		return bytes.TrimSuffix(data[:i], []byte{'\r'}), i + 1, true
	}
	if len(data) >= max {
		return data[:max], max, true
	}
	if final {
		return bytes.TrimSuffix(data, []byte{'\r'}), len(data), true
	}
	return nil, 0, false
}

// splitRecords returns the non-empty records of data, every byte of which
// belongs to a record or a line ending (as for a final flush).
func splitRecords(data []byte, max int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		rec, adv, _ := nextRecord(data, max, true)
		if len(rec) > 0 {
			out = append(out, rec)
		}
		data = data[adv:]
	}
	return out
}
