package sigma

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// itemKind is what a built item tests.
type itemKind int

const (
	itemValues   itemKind = iota // the field's value against patterns
	itemKeyword                  // the event's text against patterns
	itemExists                   // the field's presence
	itemFieldref                 // the field against another field
)

// builtItem is an Item with its modifiers applied and its values compiled,
// before field names are bound to ECS fields.
type builtItem struct {
	kind   itemKind
	field  string
	pats   []pattern
	all    bool
	null   bool // a null or '' value: matches an absent field
	negate bool // neq
	exists bool // exists: true or false
	// fieldref: the other fields (Sigma names), how they compare, and
	// whether case matters.
	refs    []string
	refKind strKind
	cased   bool
}

// compileEnv is what building needs beyond the item.
type compileEnv struct {
	fields        FieldMapper
	placeholders  map[string][]string
	keywordFields []string
	// placeholdersLenient accepts placeholders nobody configured (Parse's
	// check; Compile decides).
	placeholdersLenient bool
}

// Modifier families.
var (
	positionMods  = map[string]strKind{"contains": strContains, "startswith": strPrefix, "endswith": strSuffix}
	transformMods = map[string]bool{"base64": true, "base64offset": true, "utf16le": true, "utf16be": true, "utf16": true, "wide": true, "windash": true, "expand": true}
	compareMods   = map[string]bool{"lt": true, "lte": true, "gt": true, "gte": true}
	timeMods      = map[string]bool{"minute": true, "hour": true, "day": true, "week": true, "month": true, "year": true}
	reFlags       = map[string]string{"i": "i", "m": "m", "s": "s"}
)

// sval is a string value on its way through transformation modifiers.
type sval struct {
	s      sstr
	cased  bool // base64 output is matched as written
	binary bool // UTF-16 bytes that still need base64
}

// maxValues bounds how many patterns modifiers may expand one item into
// (windash's permutations, placeholders).
const maxValues = 4096

func itemErrorf(it *Item, format string, args ...any) *Error {
	return &Error{Prefix: prefix, Line: it.Line, Col: it.Col, Msg: itemLabel(it) + ": " + fmt.Sprintf(format, args...)}
}

func itemLabel(it *Item) string {
	if it.Field == "" && len(it.Modifiers) == 0 {
		return "keywords"
	}
	return strings.Join(append([]string{it.Field}, it.Modifiers...), "|")
}

// buildItem applies an item's modifiers to its values.
func buildItem(it *Item, env compileEnv) (*builtItem, error) {
	b := &builtItem{kind: itemValues, field: it.Field}
	if it.Field == "" {
		b.kind = itemKeyword
	}
	var (
		pos      strKind = -1
		typ      string  // "", "re", "cidr", "exists", "fieldref", "cmp"
		cmpOp    string
		part     string
		flags    string
		sawTrans bool
		offset   bool
	)
	mods := make([]string, len(it.Modifiers))
	for i, m := range it.Modifiers {
		mods[i] = strings.ToLower(m)
	}
	setType := func(m string) error {
		if typ != "" && typ != m {
			return itemErrorf(it, "modifiers %s and %s cannot be combined", typ, m)
		}
		typ = m
		return nil
	}
	for _, m := range mods {
		switch {
		case m == "all":
			b.all = true
		case m == "cased":
			b.cased = true
		case m == "neq":
			b.negate = true
		case positionMods[m] != 0:
			if pos >= 0 {
				return nil, itemErrorf(it, "more than one of contains, startswith, endswith")
			}
			pos = positionMods[m]
		case transformMods[m]:
			sawTrans = true
			offset = offset || m == "base64offset"
		case m == "re" || m == "cidr" || m == "exists" || m == "fieldref":
			if err := setType(m); err != nil {
				return nil, err
			}
		case compareMods[m]:
			if err := setType("cmp"); err != nil {
				return nil, err
			}
			cmpOp = m
		case timeMods[m]:
			if part != "" {
				return nil, itemErrorf(it, "more than one time modifier")
			}
			part = m
		case reFlags[m] != "":
			if typ != "re" {
				return nil, itemErrorf(it, "%s is a flag of re: write re|%s", m, m)
			}
			flags += reFlags[m]
		default:
			return nil, itemErrorf(it, "unknown modifier %q", m)
		}
	}
	if b.kind == itemKeyword && (typ == "exists" || typ == "fieldref" || typ == "cmp" || typ == "cidr" || part != "" || b.negate) {
		return nil, itemErrorf(it, "keywords search text and cannot take %s", strings.Join(mods, "|"))
	}
	others := func(allowed ...string) error {
		ok := map[string]bool{}
		for _, a := range allowed {
			ok[a] = true
		}
		for _, m := range mods {
			if !ok[m] && reFlags[m] == "" {
				return itemErrorf(it, "%s cannot be combined with %s", typ, m)
			}
		}
		return nil
	}
	for _, v := range it.Values {
		if v.Kind == KindNull && len(mods) > 0 {
			return nil, itemErrorf(it, "null (field absent) takes no modifiers")
		}
	}
	switch typ {
	case "exists":
		if err := others("exists"); err != nil {
			return nil, err
		}
		return b.buildExists(it)
	case "re":
		if err := others("re", "all", "neq"); err != nil {
			return nil, err
		}
		return b.buildRegexp(it, flags)
	case "cidr":
		if err := others("cidr", "neq"); err != nil {
			return nil, err
		}
		return b.buildCIDR(it)
	case "cmp":
		if err := others(cmpOp, part, "all"); err != nil {
			return nil, err
		}
		return b.buildCompare(it, cmpOp, part)
	case "fieldref":
		if err := others("fieldref", "contains", "startswith", "endswith", "cased", "neq"); err != nil {
			return nil, err
		}
		return b.buildFieldref(it, pos)
	}
	if part != "" {
		if pos >= 0 || sawTrans || b.cased {
			return nil, itemErrorf(it, "a time modifier compares numbers and takes no string modifiers")
		}
		return b.buildTimeEquals(it, part)
	}
	if offset && pos != strContains {
		return nil, itemErrorf(it, "base64offset gives fragments that only match inside a text: add |contains")
	}
	if b.all && b.negate {
		return nil, itemErrorf(it, "all and neq cannot be combined")
	}
	return b.buildStrings(it, mods, env)
}

func (b *builtItem) buildExists(it *Item) (*builtItem, error) {
	if len(it.Values) != 1 {
		return nil, itemErrorf(it, "exists takes one value, true or false")
	}
	switch strings.ToLower(it.Values[0].Text) {
	case "true", "yes":
		b.exists = true
	case "false", "no":
		b.exists = false
	default:
		return nil, itemErrorf(it, "exists takes true or false, found %q", it.Values[0].Text)
	}
	b.kind = itemExists
	return b, nil
}

// unsupportedRE names what RE2 lacks, for a clearer reason than the
// parser's own message.
var unsupportedRE = []struct{ syntax, name string }{
	{"(?=", "lookahead"}, {"(?!", "negative lookahead"}, {"(?<=", "lookbehind"}, {"(?<!", "negative lookbehind"},
	{"(?>", "atomic groups"}, {"*+", "possessive quantifiers"}, {"++", "possessive quantifiers"}, {"?+", "possessive quantifiers"},
}

var backreference = regexp.MustCompile(`\\[1-9]`)

func (b *builtItem) buildRegexp(it *Item, flags string) (*builtItem, error) {
	for _, v := range it.Values {
		if v.Kind == KindNull {
			return nil, itemErrorf(it, "re needs a regular expression, found null")
		}
		prefix := ""
		if flags != "" {
			prefix = "(?" + flags + ")"
		}
		re, err := regexp.Compile(prefix + v.Text)
		if err != nil {
			for _, u := range unsupportedRE {
				if strings.Contains(v.Text, u.syntax) {
					return nil, itemErrorf(it, "regular expression %q uses %s, which RE2 (Go's regexp) cannot run", v.Text, u.name)
				}
			}
			if backreference.MatchString(v.Text) {
				return nil, itemErrorf(it, "regular expression %q uses a backreference, which RE2 (Go's regexp) cannot run", v.Text)
			}
			return nil, itemErrorf(it, "regular expression %q: %v", v.Text, err)
		}
		b.pats = append(b.pats, &rePattern{re: re, text: v.Text})
	}
	return b, nil
}

func (b *builtItem) buildCIDR(it *Item) (*builtItem, error) {
	for _, v := range it.Values {
		p, err := netip.ParsePrefix(strings.TrimSpace(v.Text))
		if err != nil {
			// A bare address is a one-address range.
			a, aerr := netip.ParseAddr(strings.TrimSpace(v.Text))
			if aerr != nil {
				return nil, itemErrorf(it, "cidr: %q is not an address range", v.Text)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		b.pats = append(b.pats, &cidrPattern{prefix: p.Masked()})
	}
	return b, nil
}

func numberOf(v Value) (float64, bool) {
	if v.Kind == KindNull || v.Kind == KindBool {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v.Text), 64)
	return f, err == nil
}

func (b *builtItem) buildCompare(it *Item, op, part string) (*builtItem, error) {
	for _, v := range it.Values {
		n, ok := numberOf(v)
		if !ok {
			return nil, itemErrorf(it, "%s compares numbers, found %q", op, v.Text)
		}
		var p pattern = &cmpPattern{op: op, n: n}
		if part != "" {
			p = &timePattern{part: part, inner: p}
		}
		b.pats = append(b.pats, p)
	}
	return b, nil
}

func (b *builtItem) buildTimeEquals(it *Item, part string) (*builtItem, error) {
	for _, v := range it.Values {
		n, ok := numberOf(v)
		if !ok || n != float64(int64(n)) {
			return nil, itemErrorf(it, "%s compares whole numbers, found %q", part, v.Text)
		}
		b.pats = append(b.pats, &timePattern{part: part, inner: newStrPattern(literal(strconv.FormatInt(int64(n), 10)), false)})
	}
	return b, nil
}

func (b *builtItem) buildFieldref(it *Item, pos strKind) (*builtItem, error) {
	b.kind = itemFieldref
	b.refKind = strExact
	if pos >= 0 {
		b.refKind = pos
	}
	for _, v := range it.Values {
		if v.Kind != KindString || v.Text == "" {
			return nil, itemErrorf(it, "fieldref names another field, found %s", valueDesc(v))
		}
		b.refs = append(b.refs, v.Text)
	}
	return b, nil
}

func valueDesc(v Value) string {
	if v.Kind == KindNull {
		return "null"
	}
	return strconv.Quote(v.Text)
}

// buildStrings applies transformation and position modifiers, in the order
// written, to string values.
func (b *builtItem) buildStrings(it *Item, mods []string, env compileEnv) (*builtItem, error) {
	var vals []sval
	expandFirst := len(mods) > 0 && mods[0] == "expand"
	for _, v := range it.Values {
		if v.Kind == KindNull || (v.Kind == KindString && v.Text == "") {
			// mamori stores no empty values: '' and null both mean the
			// field is absent.
			if b.all {
				return nil, itemErrorf(it, "all cannot combine null or '' with other values")
			}
			b.null = true
			continue
		}
		text := v.Text
		if env.fields != nil && b.kind == itemValues {
			text = env.fields.Value(it.Field, text)
		}
		if expandFirst {
			texts, err := expandPlaceholders(it, text, env)
			if err != nil {
				return nil, err
			}
			for _, t := range texts {
				vals = append(vals, sval{s: parseWildcards(t)})
			}
			continue
		}
		vals = append(vals, sval{s: parseWildcards(text)})
	}
	for i, m := range mods {
		var err error
		switch m {
		case "expand":
			if i != 0 {
				return nil, itemErrorf(it, "expand must be the first modifier")
			}
		case "contains", "startswith", "endswith":
			for j := range vals {
				if vals[j].binary {
					return nil, itemErrorf(it, "%s before base64: UTF-16 values must be base64-encoded first", m)
				}
				vals[j].s = vals[j].s.withStar(m != "startswith", m != "endswith")
			}
		case "windash":
			vals, err = windash(it, vals)
		case "base64", "base64offset":
			vals, err = encodeBase64(it, vals, m == "base64offset")
		case "utf16le", "wide", "utf16be", "utf16":
			vals, err = encodeUTF16(it, vals, m)
		}
		if err != nil {
			return nil, err
		}
		if len(vals) > maxValues {
			return nil, itemErrorf(it, "modifiers expand to more than %d values", maxValues)
		}
	}
	for _, v := range vals {
		if v.binary {
			return nil, itemErrorf(it, "UTF-16 without base64: mamori matches text, so follow utf16 modifiers with base64 or base64offset")
		}
		b.pats = append(b.pats, newStrPattern(v.s, b.cased || v.cased))
	}
	if len(b.pats) == 0 && !b.null {
		return nil, itemErrorf(it, "no values")
	}
	if b.kind == itemKeyword && b.null {
		return nil, itemErrorf(it, "keywords cannot be null or empty")
	}
	if b.kind == itemKeyword {
		// Keywords are found anywhere in the text.
		for i, p := range b.pats {
			if sp, ok := p.(*strPattern); ok && sp.kind == strExact {
				b.pats[i] = newStrPattern(parseWildcards(sp.text).withStar(true, true), sp.cased)
			} else if ok && (sp.kind == strPrefix || sp.kind == strSuffix || sp.kind == strGlob) {
				b.pats[i] = newStrPattern(parseWildcards(sp.text).withStar(true, true), sp.cased)
			}
		}
	}
	return b, nil
}

// windash makes every variant of a value in which each dash or slash that
// starts a command-line flag (after a blank or at the start, before a word
// character) is any of - / – — ―.
func windash(it *Item, vals []sval) ([]sval, error) {
	dashes := []string{"-", "/", "\u2013", "\u2014", "\u2015"}
	var out []sval
	for _, v := range vals {
		variants := []sstr{nil}
		prevWord := false // the character before, across parts
		for _, p := range v.s {
			if p.wild != 0 {
				for i := range variants {
					variants[i] = append(variants[i], p)
				}
				prevWord = true // unknown: do not treat as a flag start
				continue
			}
			var pieces []string // alternating literal text and flag positions
			start := 0
			for i := 0; i < len(p.lit); i++ {
				c := p.lit[i]
				if (c == '-' || c == '/') && !prevWord && i+1 < len(p.lit) && isWordByte(p.lit[i+1]) {
					pieces = append(pieces, p.lit[start:i])
					start = i + 1
				}
				prevWord = isWordByte(c)
			}
			tail := p.lit[start:]
			if len(pieces) == 0 {
				for i := range variants {
					variants[i] = append(variants[i], p)
				}
				continue
			}
			var next []sstr
			for _, base := range variants {
				combos := []string{""}
				for _, piece := range pieces {
					var grown []string
					for _, c := range combos {
						for _, d := range dashes {
							grown = append(grown, c+piece+d)
						}
					}
					combos = grown
					if len(combos)*len(variants) > maxValues {
						return nil, itemErrorf(it, "windash: too many flag characters (variants above %d)", maxValues)
					}
				}
				for _, c := range combos {
					nv := append(append(sstr{}, base...), spart{lit: c + tail})
					next = append(next, nv)
				}
			}
			variants = next
		}
		for _, s := range variants {
			out = append(out, sval{s: s, cased: v.cased})
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// encodeUTF16 turns each (plain) value into UTF-16 bytes.
func encodeUTF16(it *Item, vals []sval, m string) ([]sval, error) {
	out := make([]sval, 0, len(vals))
	for _, v := range vals {
		text, ok := v.s.plain()
		if !ok || v.binary {
			return nil, itemErrorf(it, "%s needs a plain value (no wildcards, not already encoded)", m)
		}
		units := utf16.Encode([]rune(text))
		var buf []byte
		if m == "utf16" {
			buf = append(buf, 0xFF, 0xFE) // byte order mark, little-endian
		}
		for _, u := range units {
			if m == "utf16be" {
				buf = append(buf, byte(u>>8), byte(u))
			} else {
				buf = append(buf, byte(u), byte(u>>8))
			}
		}
		out = append(out, sval{s: literal(string(buf)), binary: true})
	}
	return out, nil
}

// encodeBase64 encodes each (plain) value; with offset, it gives the three
// fragments that appear whatever the value's position in the encoded text.
func encodeBase64(it *Item, vals []sval, offset bool) ([]sval, error) {
	var out []sval
	for _, v := range vals {
		text, ok := v.s.plain()
		if !ok {
			return nil, itemErrorf(it, "base64 of a value with wildcards cannot be matched; put contains after base64offset instead")
		}
		if !offset {
			out = append(out, sval{s: literal(base64.StdEncoding.EncodeToString([]byte(text))), cased: true})
			continue
		}
		for shift := 0; shift < 3; shift++ {
			enc := base64.StdEncoding.EncodeToString(append(make([]byte, shift), text...))
			// Drop the characters that depend on the bytes before
			// (the shift) and after (the last partial group).
			start := [3]int{0, 2, 3}[shift]
			end := len(enc)
			switch (len(text) + shift) % 3 {
			case 1:
				end -= 3
			case 2:
				end -= 2
			}
			if start >= end {
				return nil, itemErrorf(it, "base64offset: %q is too short to give a stable fragment", text)
			}
			out = append(out, sval{s: literal(enc[start:end]), cased: true})
		}
	}
	return out, nil
}

// expandPlaceholders replaces each %name% with every value configured for
// it; "\%" is a plain percent sign.
func expandPlaceholders(it *Item, text string, env compileEnv) ([]string, error) {
	results := []string{""}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\\' && i+1 < len(text) && text[i+1] == '%' {
			for j := range results {
				results[j] += "%"
			}
			i++
			continue
		}
		if c != '%' {
			for j := range results {
				results[j] += string(c)
			}
			continue
		}
		end := strings.IndexByte(text[i+1:], '%')
		if end < 0 {
			return nil, itemErrorf(it, "expand: %q has an unterminated placeholder", text)
		}
		name := text[i+1 : i+1+end]
		i += end + 1
		values, ok := env.placeholders[name]
		if !ok {
			if env.placeholdersLenient {
				values = []string{"*"}
			} else {
				return nil, itemErrorf(it, "expand: placeholder %%%s%% has no configured values (set it in the detection options)", name)
			}
		}
		if len(values) == 0 {
			return nil, itemErrorf(it, "expand: placeholder %%%s%% is configured with no values", name)
		}
		var next []string
		for _, r := range results {
			for _, v := range values {
				next = append(next, r+v)
			}
		}
		if len(next) > maxValues {
			return nil, itemErrorf(it, "expand: placeholders give more than %d values", maxValues)
		}
		results = next
	}
	return results, nil
}
