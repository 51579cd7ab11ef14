package screening

import (
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// partyEvasions are entries of the embedded list written so that a plain
// comparison misses them while a reader sees the listed name: invisible
// characters inside words, look-alike letters of other scripts,
// compatibility forms, combining marks, and mixes. Every one must hit.
var partyEvasions = []struct {
	how, name, id string
}{
	// Invisible characters, which used to be word breaks.
	{"soft hyphen inside a word", "Acme Sanc\u00adtioned Trading", "SAMPLE-SDN-0001"},
	{"soft hyphens in every word", "Or\u00adbi\u00adtal Fic\u00adtion\u00adal Com\u00adpo\u00adnents", "SAMPLE-MEU-0010"},
	{"zero-width space", "Blocked Enti\u200bty Ltd", "SAMPLE-EL-0002"},
	{"zero-width non-joiner", "Zor\u200cblax", "SAMPLE-DPL-0006"},
	{"zero-width joiner", "Phan\u200dtom Ship\u200dping", "SAMPLE-ISN-0009"},
	{"word joiner", "Ivan Petro\u2060vich Sido\u2060rov", "SAMPLE-SDN-0003"},
	{"byte order marks", "\ufeffZorb\ufefflax\ufeff", "SAMPLE-DPL-0006"},
	{"bidi override and pop", "\u202eAcme Sanc\u202ctioned Trading", "SAMPLE-SDN-0001"},
	{"bidi isolates", "\u2066Zor\u2068blax\u2069", "SAMPLE-DPL-0006"},
	{"direction marks", "Block\u200eed Enti\u200fty", "SAMPLE-EL-0002"},
	{"Mongolian vowel separator", "Zorb\u180elax", "SAMPLE-DPL-0006"},
	{"tag characters", "Zorb\U000e0041\U000e007flax", "SAMPLE-DPL-0006"},
	{"invisible function application", "Zorb\u2061lax", "SAMPLE-DPL-0006"},
	{"variation selector and grapheme joiner", "Zor\ufe0fb\u034flax", "SAMPLE-DPL-0006"},
	{"Hangul fillers drawn as spaces", "Acme\u3164Sanctioned\uffa0Trading", "SAMPLE-SDN-0001"},
	{"control characters", "Zor\x00bl\x1bax", "SAMPLE-DPL-0006"},

	// Look-alike letters.
	{"Cyrillic а с е о", "Асmе Sаnctiоnеd Trаding", "SAMPLE-SDN-0001"},
	{"Cyrillic capitals", "АСМЕ ЅАNСТІОNЕD ТRАDІNG", "SAMPLE-SDN-0001"},
	{"Cyrillic о х", "Zоrblах", "SAMPLE-DPL-0006"},
	{"Cyrillic В о с к е", "Вlосkеd Еntity", "SAMPLE-EL-0002"},
	{"Cyrillic small palochka for l", "Вӏocked Entity", "SAMPLE-EL-0002"},
	{"Cyrillic small м н т in mixed case", "Orbiтal Ficтional Coмponenтs", "SAMPLE-MEU-0010"},
	{"Greek capitals, read by shape", "ΒLOCKED ΕΝΤΙΤΥ", "SAMPLE-EL-0002"},
	{"Greek capital zeta", "Ζorblax", "SAMPLE-DPL-0006"},
	{"Greek ο ι", "Phantοm Shippιng", "SAMPLE-ISN-0009"},
	{"Greek capital and small rho", "Ρhantom Shiρρing", "SAMPLE-ISN-0009"},
	{"Greek capitals and Latin", "ΑCΜΕ SΑΝCΤΙΟΝΕD ΤRΑDΙΝG", "SAMPLE-SDN-0001"},
	{"Armenian օ", "Zօrblax", "SAMPLE-DPL-0006"},
	{"Cherokee capitals", "ᏴᏞOᏟKᎬD ᎬNTITY", "SAMPLE-EL-0002"},
	{"Lisu", "ꓐꓡꓳꓚꓗꓰꓓ ꓰꓠꓔꓲꓔꓬ", "SAMPLE-EL-0002"},
	{"Latin small capitals", "ᴢᴏʀʙʟᴀx", "SAMPLE-DPL-0006"},
	{"zero for o", "0rbital Fictional C0mponents", "SAMPLE-MEU-0010"},
	{"zero for o, one word", "Z0RBLAX", "SAMPLE-DPL-0006"},

	// Compatibility forms.
	{"full-width", "ＺＯＲＢＬＡＸ", "SAMPLE-DPL-0006"},
	{"full-width lower case", "Ｂｌｏｃｋｅｄ Ｅｎｔｉｔｙ", "SAMPLE-EL-0002"},
	{"mathematical bold", "𝐙𝐨𝐫𝐛𝐥𝐚𝐱", "SAMPLE-DPL-0006"},
	{"mathematical fraktur", "𝔅𝔩𝔬𝔠𝔨𝔢𝔡 𝔈𝔫𝔱𝔦𝔱𝔶", "SAMPLE-EL-0002"},
	{"mathematical double-struck", "𝕆𝕣𝕓𝕚𝕥𝕒𝕝 𝔽𝕚𝕔𝕥𝕚𝕠𝕟𝕒𝕝 ℂ𝕠𝕞𝕡𝕠𝕟𝕖𝕟𝕥𝕤", "SAMPLE-MEU-0010"},
	{"mathematical sans-serif bold", "𝗚𝗼𝗺𝗲𝘇 𝗥𝘂𝗶𝘇 𝗔𝗹𝗲𝗷𝗮𝗻𝗱𝗿𝗼 𝗙𝗶𝗰𝘁𝗶𝗰𝗶𝗼", "SAMPLE-SDN-0005"},
	{"circled letters", "ⓩⓞⓡⓑⓛⓐⓧ", "SAMPLE-DPL-0006"},

	// Combining marks.
	{"combining accents", "Z\u0308o\u0301r\u0303b\u0304lax", "SAMPLE-DPL-0006"},
	{"combining overlay", "Zo\u0336rbla\u0338x", "SAMPLE-DPL-0006"},
	{"decomposed Vietnamese", "Nguye\u0302\u0303n Va\u0306n Hu\u031b Ca\u0302\u0301u", "SAMPLE-SDN-0008"},

	// Mixed, and names listed with diacritics or in another script.
	{"soft hyphen, Cyrillic and full-width", "Ａсmе Sanc\u00adtіоned Ｔrading", "SAMPLE-SDN-0001"},
	{"zero-width space and Greek capitals", "ΒLΟ\u200bCKΕD ΕΝ\u200bΤΙΤΥ LTD", "SAMPLE-EL-0002"},
	{"Cyrillic in a name with diacritics", "Sосiété Générale d'Armement Fictive", "SAMPLE-EL-0004"},
	{"Cyrillic and ZWJ with ß and Ø", "Wеiß\u200dfluѕѕ Øresund Łódź Lоgistik", "SAMPLE-UVL-0007"},
	{"soft hyphen in the Cyrillic alias", "Иван Петрович Сидо\u00adров", "SAMPLE-SDN-0003"},
	{"Latin look-alikes in the Cyrillic alias", "Иван Пeтрович Cидopoв", "SAMPLE-SDN-0003"},
	{"Cyrillic alias in capitals", "ИВАН ПЕТРОВИЧ СИДОРОВ", "SAMPLE-SDN-0003"},
}

func TestPartyEvasionsHit(t *testing.T) {
	l := DefaultParties()
	for _, tt := range partyEvasions {
		h := l.Check(tt.name, "/consignee/name")
		if h == nil || h.EntryID != tt.id || h.Field != "/consignee/name" {
			t.Errorf("%s: %q: hit %+v, want %s", tt.how, tt.name, h, tt.id)
		}
	}
	t.Logf("%d disguised names, all hit", len(partyEvasions))
}

// TestScreenEvasionsHit: through Screen, on the buyer and on the consignee.
func TestScreenEvasionsHit(t *testing.T) {
	s := Default()
	for _, tt := range partyEvasions {
		o := cleanOrder()
		o.Buyer.Name = tt.name
		if h := s.Screen(o, day); h == nil || h.Reason != DeniedParty || h.EntryID != tt.id || h.Field != "/buyer/name" {
			t.Errorf("%s, as the buyer: %+v", tt.how, h)
		}
		o = cleanOrder()
		o.Consignee.Name = tt.name
		if h := s.Screen(o, day); h == nil || h.EntryID != tt.id || h.Field != "/consignee/name" {
			t.Errorf("%s, as the consignee: %+v", tt.how, h)
		}
	}
}

// TestLookalikesMatchNoMore: names that merely resemble listed ones, or
// are written in another script, still do not hit.
func TestLookalikesMatchNoMore(t *testing.T) {
	for _, name := range []string{
		"Acme Trading", "Асме Trading", "Acme Sanctioned", "Sanctioned Trading Acmes",
		"Blocked Entities", "Вlocked Entry Ltd", "Ivan Sidorov", "Иван Сидоров", "Ivan Petrov",
		"Zorblax Trading", "Zorb lax", "Zorb\u00a0lax", "Zorbl0x", "Zorblox", "Lena Zorblax",
		"Phantom", "Orbital Components", "Orbital Fictional", "Nguyen Van", "Société Générale",
		"Lena Fischer", "Nikolai Sokolov", "Павел Смирнов", "Ольга Иванова", "Νίκος Παπαδόπουλος",
		"ΙΩΑΝΝΗΣ ΓΕΩΡΓΙΟΥ", "Հայկ Պետրոսյան", "张伟", "علی\u200cرضا احمدی", "Studio 54", "Agent 007 Trading",
		"Acme 2000", "B0b's Bikes", "Zoë Müller-Lüdenscheidt", "Søren Ødegård",
	} {
		if h := DefaultParties().Check(name, "/buyer/name"); h != nil {
			t.Errorf("%q hit %s (%q)", name, h.EntryID, h.Matched)
		}
	}
}

// TestCustomListEvasions: an operator's list is folded the same way.
func TestCustomListEvasions(t *testing.T) {
	l, err := LoadFile("testdata/custom-parties.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, matched := range map[string]string{
		"Quux Frоbnicatiоn Wоrks GmbH":  "Quux Frobnication Works", // Cyrillic о
		"Frob\u00adnication Quux Works": "Quux Frobnication Works",
		"ＱＦＷ Ｈｏｌｄｉｎｇｓ":                  "QFW Holdings",
	} {
		if h := l.Check(name, "/buyer/name"); h == nil || h.EntryID != "TEST-1" || h.Matched != matched {
			t.Errorf("%q: %+v, want TEST-1 matching %q", name, h, matched)
		}
	}
}

// goodsEvasions are restricted goods named in disguise; each must hit its
// rule for the destination.
var goodsEvasions = []struct {
	how, dest, title, id string
}{
	{"soft hyphen", "SG", "Va\u00adpe pen", "SG.e-cigarettes"},
	{"Cyrillic а", "SG", "Disposable vаpe", "SG.e-cigarettes"},
	{"full-width", "AU", "ＶＡＰＥＳ", "AU.vapes"},
	{"full-width hyphen", "SG", "ｅ－ｌｉｑｕｉｄ 10 ml", "SG.e-cigarettes"},
	{"mathematical bold", "DE", "Glass 𝐁𝐨𝐧𝐠", "ALL.drug-paraphernalia"},
	{"zero for o", "GB", "B0NG 30 cm", "ALL.drug-paraphernalia"},
	{"zero-width space", "US", "Fire\u200bworks, 20 pack", "ALL.explosives-fireworks"},
	{"Cyrillic а throughout", "GB", "Dried mаrijuаnа", "ALL.narcotics"},
	{"Greek capitals, read by shape", "US", "ΤΗC gummies", "ALL.narcotics"},
	{"Cyrillic С", "US", "Сocaine", "ALL.narcotics"},
	{"soft hyphen in a phrase", "SG", "Chew\u00ading gum, mint", "SG.chewing-gum"},
	{"zero-width joiner joins a phrase", "FR", "Power\u200dbank 10000 mAh", "AIRMAIL.lithium-batteries-alone"},
	{"Cyrillic in a phrase", "US", "Replica wаtch", "ALL.counterfeit"},
	{"combining marks", "AU", "Ae\u0301ro\u0308sol paint", "ALL.aerosols-flammable"},
	{"word joiner and Greek ο", "JP", "Carved\u2060 ivοry figurine", "ALL.ivory"},
	{"bidi controls", "NZ", "\u202eButane\u202c refill", "ALL.aerosols-flammable"},
}

func TestGoodsEvasionsHit(t *testing.T) {
	g := DefaultGoods()
	for _, tt := range goodsEvasions {
		h := g.Check(tt.dest, []order.Line{line("999999", tt.title)}, day)
		if h == nil || h.EntryID != tt.id || h.Field != "/lines/0/title" {
			t.Errorf("%s: %s %q: hit %+v, want %s", tt.how, tt.dest, tt.title, h, tt.id)
		}
	}
	t.Logf("%d disguised titles, all hit", len(goodsEvasions))

	custom, err := LoadGoodsFile("testdata/custom-goods.json")
	if err != nil {
		t.Fatal(err)
	}
	on := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	for title, id := range map[string]string{"Flux cаpacitor": "NZ.future-widgets", "Gаd\u00adget": "ALL.gadgets"} {
		if h := custom.Check("NZ", []order.Line{line("999999", title)}, on); h == nil || h.EntryID != id {
			t.Errorf("custom rules, %q: %+v, want %s", title, h, id)
		}
	}
}

// TestInnocentTitlesStillPass: titles near a keyword, or with the
// characters folding reads, do not hit.
func TestInnocentTitlesStillPass(t *testing.T) {
	g := DefaultGoods()
	for _, title := range []string{
		"Fer à repasser vapeur", "Bongo drums", "B0ng0 drums", "Evaporated milk", "Ivory white cotton dress",
		"Gum massager", "Cotton Т-shirt", "Thermal mug", "USB-C charger 65 W", "CR2032 coin cell holder",
		"Fire\u00a0works of art poster", "Vap\u00a0e", "ΒΟΝΓΟ", "Chewing", "Replica of a 1960s race car",
	} {
		for _, dest := range []string{"SG", "AU", "US", "GB", "DE"} {
			if h := g.Check(dest, []order.Line{line("999999", title)}, day); h != nil {
				t.Errorf("%s %q: hit %+v", dest, title, *h)
			}
		}
	}
}
