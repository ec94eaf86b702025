package mapping

import (
	"encoding/json"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// valueType is what a field's text is converted to.
type valueType uint8

const (
	typeString valueType = iota
	typeInt
	typeFloat
	typeBool
	typeIP
	typeMAC
	typeLower
	typeUpper
	typeTime
	typeList
)

// typeNames are the names a mapping writes in `type:`.
var typeNames = map[string]valueType{
	"string": typeString,
	"int":    typeInt,
	"float":  typeFloat,
	"bool":   typeBool,
	"ip":     typeIP,
	"mac":    typeMAC,
	"lower":  typeLower,
	"upper":  typeUpper,
	"time":   typeTime,
	"list":   typeList,
}

const validTypes = "string, int, float, bool, ip, mac, lower, upper, time, list"

// value is one source value of a record: text for the line formats; for
// JSON, text for strings and the decoded value (json.Number, bool, []any,
// map[string]any) otherwise.
type value struct {
	s  string
	j  any
	ok bool
}

func textValue(s string) value { return value{s: s, ok: true} }

// text renders the value as text: JSON numbers and booleans as written,
// objects as compact JSON.
func (v value) text() string {
	switch x := v.j.(type) {
	case nil:
		return v.s
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return ""
		}
		return string(b)
	}
}

// blank reports a value that counts as absent: empty text, an empty list,
// a JSON null.
func (v value) blank() bool {
	if !v.ok {
		return true
	}
	switch x := v.j.(type) {
	case nil:
		return strings.TrimSpace(v.s) == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

// converter turns a value's text into the field's type.
type converter struct {
	typ valueType
	// time: how the text is read, and the zone of times without one.
	layout timeLayout
	loc    *time.Location
	// list: what separates the elements.
	sep string
	// translation table (`map:`) and its `default:`, applied to the text
	// before the conversion.
	table      map[string]string
	hasDefault bool
	def        string
}

// convert converts v. ok is false when the value does not convert (an
// address that is none, a number that is not); out is nil with ok true
// when the translation table maps the value to nothing.
func (c *converter) convert(v value, ref time.Time) (out any, ok bool) {
	if arr, isArr := v.j.([]any); isArr {
		return c.each(arr, ref)
	}
	text := v.text()
	if c.typ == typeList {
		var list []string
		for part := range strings.SplitSeq(text, c.sep) {
			if s := c.translate(strings.TrimSpace(part)); s != "" {
				list = append(list, s)
			}
		}
		if len(list) == 0 {
			return nil, true
		}
		return list, true
	}
	return c.one(text, ref)
}

// each converts the elements of a JSON array: every one must convert.
func (c *converter) each(arr []any, ref time.Time) (any, bool) {
	var texts []string
	var mixed []any
	for _, el := range arr {
		if el == nil {
			continue
		}
		out, ok := c.one(value{j: el, ok: true}.text(), ref)
		if !ok {
			return nil, false
		}
		if out == nil {
			continue
		}
		if s, isText := out.(string); isText && mixed == nil {
			texts = append(texts, s)
			continue
		}
		if mixed == nil {
			mixed = make([]any, 0, len(arr))
			for _, s := range texts {
				mixed = append(mixed, s)
			}
		}
		mixed = append(mixed, out)
	}
	if mixed != nil {
		return mixed, true
	}
	if len(texts) == 0 {
		return nil, true
	}
	return texts, true
}

// translate applies the `map:` table.
func (c *converter) translate(s string) string {
	if c.table == nil {
		return s
	}
	if t, ok := c.table[strings.TrimSpace(s)]; ok {
		return t
	}
	if c.hasDefault {
		return c.def
	}
	return s
}

// one converts one scalar's text.
func (c *converter) one(text string, ref time.Time) (any, bool) {
	text = c.translate(text)
	t := strings.TrimSpace(text)
	if t == "" {
		return nil, true
	}
	switch c.typ {
	case typeString, typeList:
		return text, true
	case typeLower:
		return strings.ToLower(t), true
	case typeUpper:
		return strings.ToUpper(t), true
	case typeInt:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			// JSON writes some integers as 3.0 or 1e3.
			f, ferr := strconv.ParseFloat(t, 64)
			if ferr != nil || f != float64(int64(f)) {
				return nil, false
			}
			n = int64(f)
		}
		return n, true
	case typeFloat:
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil
	case typeBool:
		return parseBool(t)
	case typeIP:
		return canonicalIP(t)
	case typeMAC:
		return ecsMAC(t)
	case typeTime:
		tm, err := c.layout.parse(t, ref, c.loc)
		if err != nil {
			return nil, false
		}
		return tm, true
	}
	return nil, false
}

func parseBool(s string) (any, bool) {
	switch strings.ToLower(s) {
	case "true", "t", "1", "yes", "y", "on":
		return true, true
	case "false", "f", "0", "no", "n", "off":
		return false, true
	}
	return nil, false
}

// canonicalIP writes an address canonically (IPv4-mapped IPv6 as IPv4);
// brackets around an IPv6 address are accepted.
func canonicalIP(s string) (any, bool) {
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil, false
	}
	return a.Unmap().String(), true
}

// ecsMAC writes a MAC address as ECS recommends: upper-case hex octets
// separated by hyphens. Colons, hyphens, Cisco dots and bare hex digits
// are read.
func ecsMAC(s string) (any, bool) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		if len(s) != 12 {
			return nil, false
		}
		hw = make(net.HardwareAddr, 6)
		for i := range hw {
			b, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
			if err != nil {
				return nil, false
			}
			hw[i] = byte(b)
		}
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(hw)*3)
	for i, o := range hw {
		if i > 0 {
			b = append(b, '-')
		}
		b = append(b, hex[o>>4], hex[o&0xf])
	}
	return string(b), true
}
