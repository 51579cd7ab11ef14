package screening

// The confusables skeleton: letters of other scripts that a reader of a
// Latin-script name takes for Latin letters, mapped to the Latin letter they
// pass for, so that "Асме" (Cyrillic А, С, М, Е) and "ΒLOCKED" (Greek Β)
// compare as "acme" and "blocked". This is the idea of Unicode TS #39's
// skeleton, with a focused table instead of confusables.txt (which maps
// thousands of characters, many of them symbols, punctuation and marks that
// the normalisation already turns into word breaks or drops). The entries
// below come from confusables.txt; mathematical alphanumerics, full-width,
// circled and other compatibility forms need no entry, as NFKD already
// decomposes them to plain letters.
//
// What is deliberately not folded, to keep ordinary names apart:
//
//   - Latin letters among themselves: TS #39 reads 'I' as 'l' and "rn" as
//     'm', but then "Ivan" and "lvan", "Burns" and "Bums" would be one name.
//     Names are compared in lower case, where I is i.
//   - digits other than 0: "1" may stand for l or for i, "3" for E or for
//     Cyrillic З; 0 for o is folded, but only inside a word that also has
//     letters (see readZeroAsO), so that numbers stay numbers.
//   - look-alikes that need a mark or a stroke to pass (ħ, đ are folded by
//     foldTable as diacritics already; Cyrillic ћ, ғ are not folded).
//
// A name written in Cyrillic, Greek or Armenian is folded like any other:
// "Иван" becomes "иbah". It is not transliterated, and it still matches a
// listed "Иван", because the list's names are folded the same way: matching
// compares skeletons on both sides.

// lookalikes maps a lower-case letter (as unicode.ToLower leaves it) to the
// Latin letter it passes for. Capital look-alikes are found through their
// lower case: Cyrillic А is а, which is a; for the capitals whose lower case
// passes for another letter (Greek Ν is N, but ν is v) see capitalLookalikes.
var lookalikes = map[rune]string{
	// Cyrillic: the letters of the review, in both cases through lower case.
	// Small в, н, к, м, т are small-capital shapes; they pass for b, h, k,
	// m, t in a mixed-case name ("Асмe" with a small м), and their capitals
	// are exact copies of B, H, K, M, T.
	'\u0430': "a", // а
	'\u0432': "b", // в (В)
	'\u0433': "r", // г
	'\u0501': "d", // ԁ komi de
	'\u0435': "e", // е (Е)
	'\u04bd': "e", // ҽ abkhasian che
	'\u04bb': "h", // һ shha (Һ)
	'\u043d': "h", // н (Н)
	'\u0456': "i", // і byelorussian-ukrainian i (І)
	'\ua647': "i", // ꙇ iota
	'\u04cf': "l", // ӏ palochka, small; its capital Ӏ: see capitalLookalikes
	'\u0458': "j", // ј je (Ј)
	'\u043a': "k", // к (К)
	'\u043c': "m", // м (М)
	'\u043f': "n", // п
	'\u043e': "o", // о (О)
	'\u0440': "p", // р (Р)
	'\u051b': "q", // ԛ qa (Ԛ)
	'\u0441': "c", // с (С)
	'\u0455': "s", // ѕ dze (Ѕ)
	'\u0442': "t", // т (Т)
	'\u0446': "u", // ц
	'\u0443': "y", // у (У)
	'\u04af': "y", // ү straight u (Ү)
	'\u0445': "x", // х (Х)
	'\u051d': "w", // ԝ we (Ԝ)
	'\u0461': "w", // ѡ omega
	'\u044c': "b", // ь soft sign (Ь)
	'\u0475': "v", // ѵ izhitsa (Ѵ)
	'\u050d': "g", // ԍ komi sje (Ԍ)

	// Greek, lower case (capitals through it where both look alike: Α α,
	// Ε ε, Ι ι, Κ κ, Ο ο, Ρ ρ, Τ τ, Χ χ). Final sigma folds like sigma, so
	// that a Greek name matches in capitals (Σ, whose lower case is σ) and
	// in lower case (ς at the end of a word).
	'\u03b1': "a", // α
	'\u03b3': "y", // γ
	'\u03b5': "e", // ε
	'\u03b7': "n", // η (its capital Η: capitalLookalikes)
	'\u03b9': "i", // ι
	'\u03ba': "k", // κ
	'\u03bd': "v", // ν (its capital Ν: capitalLookalikes)
	'\u03bf': "o", // ο
	'\u03c1': "p", // ρ
	'\u03c3': "o", // σ
	'\u03c2': "o", // ς, as σ
	'\u03c4': "t", // τ
	'\u03c5': "u", // υ (its capital Υ: capitalLookalikes)
	'\u03c7': "x", // χ
	'\u03f2': "c", // ϲ lunate sigma (Ϲ); NFKD would make it ς
	'\u03f3': "j", // ϳ yot (Ϳ)
	'\u03d2': "y", // ϒ upsilon with hook, which has no lower case

	// Armenian.
	'\u0585': "o", // օ (Օ)
	'\u0578': "n", // ո
	'\u057c': "n", // ռ
	'\u057d': "u", // ս (Ս)
	'\u0570': "h", // հ
	'\u0581': "g", // ց
	'\u0563': "q", // գ
	'\u0566': "q", // զ
	'\u0561': "w", // ա

	// Latin small capitals and IPA letters: Latin, but without a
	// decomposition to the letter they are.
	'\u1d00': "a", // ᴀ
	'\u0299': "b", // ʙ
	'\u1d04': "c", // ᴄ
	'\u1d05': "d", // ᴅ
	'\u1d07': "e", // ᴇ
	'\u0262': "g", // ɢ
	'\u029c': "h", // ʜ
	'\u026a': "i", // ɪ
	'\u1d0a': "j", // ᴊ
	'\u1d0b': "k", // ᴋ
	'\u029f': "l", // ʟ
	'\u1d0d': "m", // ᴍ
	'\u0274': "n", // ɴ
	'\u1d0f': "o", // ᴏ
	'\u1d18': "p", // ᴘ
	'\u0280': "r", // ʀ
	'\ua731': "s", // ꜱ
	'\u1d1b': "t", // ᴛ
	'\u1d1c': "u", // ᴜ
	'\u1d20': "v", // ᴠ
	'\u1d21': "w", // ᴡ
	'\u028f': "y", // ʏ
	'\u1d22': "z", // ᴢ
	'\u0251': "a", // ɑ alpha
	'\u0261': "g", // ɡ script g
	'\u0269': "i", // ɩ iota
	'\u0237': "j", // ȷ dotless j
	'\u028b': "u", // ʋ v with hook
	'\u0263': "y", // ɣ gamma

	// Cherokee: capitals that are copies of Latin capitals. Unicode gives
	// them lower-case letters (small-capital shapes), which is what the keys
	// are; the comment names the capital.
	'\uab7a': "a", // Ꭺ go
	'\u13fc': "b", // Ᏼ yv
	'\uab9f': "b", // Ꮟ si
	'\uabaf': "c", // Ꮯ tli
	'\uab70': "d", // Ꭰ a
	'\uabb7': "d", // Ꮷ tsu
	'\uab7c': "e", // Ꭼ gv
	'\uab90': "g", // Ꮐ nah
	'\u13fb': "g", // Ᏻ yu
	'\uab8b': "h", // Ꮋ mi
	'\uab92': "h", // Ꮒ ni
	'\uab75': "i", // Ꭵ v
	'\uab7b': "j", // Ꭻ gu
	'\uabb6': "k", // Ꮶ tso
	'\uabae': "l", // Ꮮ tle
	'\uab87': "m", // Ꮇ lu
	'\uabb2': "p", // Ꮲ tlv
	'\uab71': "r", // Ꭱ e
	'\uaba2': "r", // Ꮢ sv
	'\uabaa': "s", // Ꮪ du
	'\uaba5': "s", // Ꮥ de
	'\uab72': "t", // Ꭲ i
	'\uaba9': "v", // Ꮩ do
	'\uab83': "w", // Ꮃ la
	'\uaba4': "w", // Ꮤ ta
	'\uab79': "y", // Ꭹ gi
	'\uab8d': "y", // Ꮍ mu
	'\uab93': "z", // Ꮓ no

	// Lisu: a caseless script of Latin-capital shapes.
	'\ua4ee': "a", // ꓮ
	'\ua4d0': "b", // ꓐ
	'\ua4da': "c", // ꓚ
	'\ua4d3': "d", // ꓓ
	'\ua4f0': "e", // ꓰ
	'\ua4dd': "f", // ꓝ
	'\ua4d6': "g", // ꓖ
	'\ua4e7': "h", // ꓧ
	'\ua4f2': "l", // ꓲ, read as I by capitalLookalikes
	'\ua4d9': "j", // ꓙ
	'\ua4d7': "k", // ꓗ
	'\ua4e1': "l", // ꓡ
	'\ua4df': "m", // ꓟ
	'\ua4e0': "n", // ꓠ
	'\ua4f3': "o", // ꓳ
	'\ua4d1': "p", // ꓑ
	'\ua4e3': "r", // ꓣ
	'\ua4e2': "s", // ꓢ
	'\ua4d4': "t", // ꓔ
	'\ua4f4': "u", // ꓴ
	'\ua4e6': "v", // ꓦ
	'\ua4ea': "w", // ꓪ
	'\ua4eb': "x", // ꓫ
	'\ua4ec': "y", // ꓬ
	'\ua4dc': "z", // ꓜ
}

// capitalLookalikes maps the capitals (and caseless letters) that pass for a
// different Latin letter than their lower case does: Greek Ν is an N, ν a v.
// A text that has one is read a second time with these (asCapitals), and a
// hit in either reading counts; reading only through lower case would miss
// "ΒLOCKED ΕΝΤΙΤΥ", reading only by shape would stop "ΝΙΚΟΣ" from matching
// "νίκος". The vertical strokes (palochka, Lisu I) pass for l in lower case
// and for I among capitals, so they are in both tables.
var capitalLookalikes = map[rune]string{
	'\u0392': "b", // Β beta (β is not a Latin look-alike)
	'\u0396': "z", // Ζ zeta
	'\u0397': "h", // Η eta (η is n)
	'\u039c': "m", // Μ mu
	'\u039d': "n", // Ν nu (ν is v)
	'\u03a5': "y", // Υ upsilon (υ is u)
	'\u03dc': "f", // Ϝ digamma
	'\u04c0': "i", // Ӏ palochka, capital (ӏ is l)
	'\ua4f2': "i", // ꓲ Lisu I
	'\u054f': "s", // Տ Armenian tiwn (տ is not a look-alike)
}
