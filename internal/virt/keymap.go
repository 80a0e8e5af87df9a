package virt

import (
	"strings"
	"unicode"
)

// The US keyboard layout in QEMU key codes (QKeyCode, qapi/ui.json):
// unshifted runs of characters, the same keys shifted, and their codes.
var usLayout = []struct {
	plain, shifted string
	codes          []string
}{
	{"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", nil}, // codes are the letters
	{"1234567890", "!@#$%^&*()", nil},                                 // codes are the digits
	{" ", "", []string{"spc"}},
	{"-=[]\\", "_+{}|", []string{"minus", "equal", "bracket_left", "bracket_right", "backslash"}},
	{";'`,./", ":\"~<>?", []string{"semicolon", "apostrophe", "grave_accent", "comma", "dot", "slash"}},
	{"\t\n", "", []string{"tab", "ret"}},
}

// charKey is the key that types a character, and whether it is shifted.
type charKey struct {
	code  string
	shift bool
}

// qcodes maps a character to its key.
var qcodes = func() map[rune]charKey {
	m := map[rune]charKey{}
	for _, run := range usLayout {
		plain, shifted := []rune(run.plain), []rune(run.shifted)
		for i, r := range plain {
			code := string(unicode.ToLower(r))
			if run.codes != nil {
				code = run.codes[i]
			}
			m[r] = charKey{code, false}
			if i < len(shifted) {
				m[shifted[i]] = charKey{code, true}
			}
		}
	}
	return m
}()

// specialQCodes are the SDK boot command's special keys (<enter>,
// <leftShift>, ...), lower-cased, as QEMU key codes.
var specialQCodes = map[string]string{
	"bs": "backspace", "del": "delete", "enter": "ret", "return": "ret",
	"esc": "esc", "tab": "tab", "spacebar": "spc", "menu": "menu",
	"f1": "f1", "f2": "f2", "f3": "f3", "f4": "f4", "f5": "f5", "f6": "f6",
	"f7": "f7", "f8": "f8", "f9": "f9", "f10": "f10", "f11": "f11", "f12": "f12",
	"up": "up", "down": "down", "left": "left", "right": "right",
	"insert": "insert", "home": "home", "end": "end",
	"pageup": "pgup", "pagedown": "pgdn",
	"leftalt": "alt", "rightalt": "alt_r", "leftoption": "alt", "rightoption": "alt_r",
	"leftctrl": "ctrl", "rightctrl": "ctrl_r",
	"leftshift": "shift", "rightshift": "shift_r",
	"leftsuper": "meta_l", "rightsuper": "meta_r", "leftcommand": "meta_l", "rightcommand": "meta_r",
}

// CharKey is the QEMU key code that types r on a US keyboard, and whether
// shift must be held for it; ok is false for a character no key types.
func CharKey(r rune) (qcode string, shift, ok bool) {
	k, ok := qcodes[r]
	return k.code, k.shift, ok
}

// SpecialKey is the QEMU key code of a boot command special key (the name
// inside <...>, any case).
func SpecialKey(name string) (qcode string, ok bool) {
	qcode, ok = specialQCodes[strings.ToLower(name)]
	return qcode, ok
}

// Typed is the text events type on a US keyboard: characters, shifted
// while either shift key is down; "ret" is a newline, "tab" a tab; any
// other key shows as <qcode> when it goes down. Tests read what a boot
// command typed with it.
func Typed(events []KeyEvent) string {
	chars := map[string][2]rune{}
	for r, k := range qcodes {
		c := chars[k.code]
		if k.shift {
			c[1] = r
		} else {
			c[0] = r
		}
		chars[k.code] = c
	}
	var b strings.Builder
	shift := map[string]bool{}
	for _, e := range events {
		if e.QCode == "shift" || e.QCode == "shift_r" {
			shift[e.QCode] = e.Down
			continue
		}
		if !e.Down {
			continue
		}
		c, ok := chars[e.QCode]
		switch {
		case !ok:
			b.WriteString("<" + e.QCode + ">")
		case (shift["shift"] || shift["shift_r"]) && c[1] != 0:
			b.WriteRune(c[1])
		default:
			b.WriteRune(c[0])
		}
	}
	return b.String()
}
