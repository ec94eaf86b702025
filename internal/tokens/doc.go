// Package tokens splits event text into search tokens and keeps, per block of
// events, a Bloom filter of those tokens, so that a keyword search reads only
// the blocks that may hold the keyword (the approach of ClickHouse's
// tokenbf_v1 index and Loki's chunk filters).
//
// # Tokens
//
// Text is lower-cased rune by rune (ASCII by table; other runes with Go's
// simple case mapping, unicode.ToLower). A word character is a letter, a
// number or a combining mark (Unicode L, N, M); a joiner is one of . _ - @ :
// and every other character separates. A compound is a maximal run of word
// characters and joiners; its parts are its maximal runs of word characters.
// So "alice@Example.com" is one compound with the parts alice, example, com,
// and "[10.0.0.1]:443" holds the compound 10.0.0.1:443. Leading and trailing
// joiners belong to no part, so "end." and "-end" give the same tokens as
// "end".
//
// From each compound the tokenizer emits
//
//   - every part of at least two characters ("owssvr", "dll", "10" from
//     10.0.0.1, but not its "0" and "1": one-character parts match nearly every
//     block and would only cost hashing time), and
//   - every run of two adjacent parts with the joiners between them, whatever
//     the parts' lengths: "owssvr.dll", "alice@example", "example.com",
//     "10.0", "0.0", "0.1", "2001:db8", "db8::1".
//
// A compound of one or two parts is thus always emitted whole. Longer
// compounds are not: their adjacent pairs stand for them. This keeps the
// number of tokens linear in the compound's length while a keyword still
// finds every compound it is part of, at part boundaries: example.com finds
// alice@example.com and www.example.com:443, 10.0.0.1 finds 10.0.0.1:443 and
// ::ffff:10.0.0.1. A token longer than MaxTokenLen bytes is skipped, not
// truncated (it is usually a blob: base64, hex, a packet dump); the short
// parts around it are still emitted.
//
// # Keywords
//
// QueryTokens applies the same tokenizer to a query term: the tokens it
// returns are exactly the tokens the tokenizer emits for the term's own text.
// They are all present in any text in which the term occurs as whole words:
// lower-cased, and with no word character right before or after it (the term
// alice occurs in "user=Alice," and in "alice@example.com" but not in
// "malice"). That is the word-match rule a keyword search must use for the
// filter to be exact: a block whose filter lacks one of the term's tokens
// holds no event with the term. A term that gives no token (a single
// character, punctuation) cannot rule a block out.
//
// FragmentTokens serves plain substring search and wildcard patterns: the
// tokens of a literal fragment that any text containing it, with arbitrary
// characters allowed to continue it at either end, still holds.
//
// # Hash and filter
//
// A token's hash is XXH3-64 with seed 0 (github.com/zeebo/xxh3) of its
// lower-cased UTF-8 bytes. Filters are persisted, so the hash, the tokenizer
// and the filter layout are fixed for a format version: changing any of them
// is a new version, and filters of an older version are rebuilt from the
// events (they are derived data).
//
// The filter is a blocked Bloom filter: 512-bit blocks (one 64-byte cache
// line). A hash picks a block with its upper 32 bits and sets or tests k bits
// in it, at positions that two remixes of the hash generate (double hashing
// through a multiply: the linear Kirsch–Mitzenmacher form, on blocks this
// small, measured 1.4 times its target rate at 0.1%). A probe thus touches
// one cache line. A Builder collects the distinct token hashes of a
// block of events and sizes the filter for their real count at a target
// false-positive rate: about 9.9 bits a token and k=6 at 1%.
package tokens
