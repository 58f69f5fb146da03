// Package pdftest reads back, for tests, what a pdfkit/fpdf document drew: the text
// of its pages and the number of pages. It understands the PDFs fpdf writes (Flate
// or plain content streams, text shown with Tj, UTF-16 strings for the UTF-8 font),
// not PDFs in general.
package pdftest

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"
)

// Text returns the strings drawn in pdf's pages, one a line, in drawing order. It
// fails the test when pdf is not a PDF.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("pdftest: not a PDF (starts %q)", head(pdf))
	}
	utf8Fonts := map[string]bool{} // resource name → is a UTF-8 (Type0) font
	type0 := map[string]bool{}
	for _, m := range type0Re.FindAllSubmatch(pdf, -1) {
		type0[string(m[1])] = true
	}
	for _, m := range fontRefRe.FindAllSubmatch(pdf, -1) {
		utf8Fonts[string(m[1])] = type0[string(m[2])]
	}
	var lines []string
	for _, s := range streams(pdf) {
		if !bytes.Contains(s, []byte("BT")) || !bytes.Contains(s, []byte("Tj")) {
			continue
		}
		lines = append(lines, shownStrings(s, utf8Fonts)...)
	}
	return strings.Join(lines, "\n")
}

// PageCount returns the number of pages of pdf.
func PageCount(t testing.TB, pdf []byte) int {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("pdftest: not a PDF (starts %q)", head(pdf))
	}
	return len(pageRe.FindAll(pdf, -1))
}

var (
	pageRe    = regexp.MustCompile(`/Type\s*/Page[^s]`)
	type0Re   = regexp.MustCompile(`(\d+) 0 obj\s*<</Type /Font\s*/Subtype /Type0`)
	fontRefRe = regexp.MustCompile(`/(F\w+) (\d+) 0 R`)
	tfRe      = regexp.MustCompile(`^/(F\w+)\s+[\d.]+\s+Tf`)
)

func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

// streams returns the contents of pdf's streams, inflated where they are Flate.
func streams(pdf []byte) [][]byte {
	var out [][]byte
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("stream"))
		if i < 0 {
			return out
		}
		// "endstream" also contains "stream": only a keyword that ends a line opens one.
		start := i + len("stream")
		if i >= 3 && string(rest[i-3:i]) == "end" {
			rest = rest[start:]
			continue
		}
		switch {
		case bytes.HasPrefix(rest[start:], []byte("\r\n")):
			start += 2
		case bytes.HasPrefix(rest[start:], []byte("\n")):
			start++
		default:
			rest = rest[start:]
			continue
		}
		end := bytes.Index(rest[start:], []byte("endstream"))
		if end < 0 {
			return out
		}
		raw := bytes.TrimRight(rest[start:start+end], "\r\n")
		dict := rest[max(0, i-300):i]
		if bytes.Contains(dict[max(0, bytes.LastIndex(dict, []byte("<<"))):], []byte("FlateDecode")) {
			if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
				if b, err := io.ReadAll(zr); err == nil {
					raw = b
				}
			}
		}
		out = append(out, raw)
		rest = rest[start+end+len("endstream"):]
	}
}

// shownStrings returns the literal strings of the Tj operators in a content stream,
// decoded after the font selected when each is drawn.
func shownStrings(s []byte, utf8Fonts map[string]bool) []string {
	var out []string
	utf8 := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/':
			if m := tfRe.FindSubmatch(s[i:]); m != nil {
				utf8 = utf8Fonts[string(m[1])]
			}
		case '(':
			lit, next := literal(s, i)
			rest := bytes.TrimLeft(s[next:], " \t\r\n")
			if bytes.HasPrefix(rest, []byte("Tj")) {
				out = append(out, decode(lit, utf8))
			}
			i = next - 1
		}
	}
	return out
}

// literal parses the PDF literal string opening at s[i] and returns its bytes and
// the index after its closing parenthesis.
func literal(s []byte, i int) ([]byte, int) {
	var b []byte
	depth := 0
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '\\' && j+1 < len(s):
			j++
			switch e := s[j]; e {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case '\r', '\n':
			default:
				if e >= '0' && e <= '7' {
					v, k := 0, 0
					for ; k < 3 && j+k < len(s) && s[j+k] >= '0' && s[j+k] <= '7'; k++ {
						v = v*8 + int(s[j+k]-'0')
					}
					b = append(b, byte(v))
					j += k - 1
				} else {
					b = append(b, e)
				}
			}
		case c == '(':
			if depth > 0 {
				b = append(b, c)
			}
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return b, j + 1
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return b, len(s)
}

// decode reads fpdf's strings: UTF-16BE for the UTF-8 fonts, Latin-1 for the core
// fonts.
func decode(b []byte, utf8 bool) string {
	if utf8 && len(b)%2 == 0 {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		return string(utf16.Decode(u))
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
