package device

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PEM block types ltk reads and writes.
const (
	pemPKCS1    = "RSA PRIVATE KEY" // PKCS#1, what `openssl genrsa` (1.x) makes
	pemSEC1     = "EC PRIVATE KEY"  // SEC 1, what `openssl ecparam -genkey` makes
	pemPKCS8    = "PRIVATE KEY"     // PKCS#8, RSA or EC
	pemPublic   = "PUBLIC KEY"      // PKIX SubjectPublicKeyInfo
	pemECParams = "EC PARAMETERS"   // written before the key by `openssl ecparam` without -noout; skipped
)

// wantPrivate is the hint every private-key parse error ends with.
const wantPrivate = "want PKCS#1, SEC1 or PKCS#8"

// Flatten returns PEM text on one line, its lines joined by single spaces, the
// way the tutorial stored keys in devicelist.csv:
// "-----BEGIN RSA PRIVATE KEY----- MIIE… … -----END RSA PRIVATE KEY-----".
func Flatten(pemText []byte) string {
	return strings.Join(strings.Fields(string(pemText)), " ")
}

// pemBlock is one decoded PEM block.
type pemBlock struct {
	Type  string
	Bytes []byte
}

// label quotes a PEM block's type for an error message, followed by a space,
// when it reads like one ("EC PRIVATE KEY": capitals and spaces, short) and
// does not occur in the block's body. A BEGIN line that lost its closing
// dashes makes the "type" run into the key itself (flattened keys have no
// newlines to stop it), so anything else is left out rather than quoted.
func label(typ, body string) string {
	if len(typ) == 0 || len(typ) > 40 || strings.Contains(body, typ) ||
		strings.TrimLeft(typ, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ") != "" {
		return ""
	}
	return strconv.Quote(typ) + " "
}

// errNoPEM means the text holds no "-----BEGIN " line at all.
var errNoPEM = errors.New("no PEM block")

// decodePEM decodes every PEM block in s, whether its lines are separated by
// newlines (a normal PEM file, CRLF or LF) or by spaces (the flattened form).
// Text outside the blocks is ignored, as encoding/pem does. Blocks with
// headers (encrypted keys) are refused. Errors never quote the block's body.
func decodePEM(s string) ([]pemBlock, error) {
	const begin, dashes = "-----BEGIN ", "-----"
	var blocks []pemBlock
	for {
		i := strings.Index(s, begin)
		if i < 0 {
			break
		}
		s = s[i+len(begin):]
		j := strings.Index(s, dashes)
		if j < 0 || strings.ContainsAny(s[:j], "\r\n") {
			return nil, fmt.Errorf("has a PEM BEGIN line that is cut short (file truncated?)")
		}
		typ := s[:j]
		s = s[j+len(dashes):]
		end := dashes + "END " + typ + dashes
		k := strings.Index(s, end)
		if k < 0 {
			return nil, fmt.Errorf("has a PEM block %swith no END line (file truncated?)", label(typ, s))
		}
		body := s[:k]
		s = s[k+len(end):]
		if strings.Contains(body, ":") {
			return nil, fmt.Errorf("has a PEM block %swith headers: encrypted keys are not supported (decrypt it first: openssl pkey -in key.pem -out plain.pem)", label(typ, body))
		}
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
		if err != nil {
			return nil, fmt.Errorf("has a PEM block %sthat is not valid base64", label(typ, body))
		}
		blocks = append(blocks, pemBlock{Type: typ, Bytes: der})
	}
	if len(blocks) == 0 {
		return nil, errNoPEM
	}
	return blocks, nil
}

// onlyBlock returns the single block of s that is not EC PARAMETERS.
func onlyBlock(s string) (pemBlock, error) {
	blocks, err := decodePEM(s)
	if err != nil {
		return pemBlock{}, err
	}
	var keep []pemBlock
	for _, b := range blocks {
		if b.Type != pemECParams {
			keep = append(keep, b)
		}
	}
	if len(keep) != 1 {
		return pemBlock{}, fmt.Errorf("holds %d PEM key blocks (want exactly one)", len(keep))
	}
	return keep[0], nil
}

// parsePrivateKey parses a private key in PEM (normal or flattened): PKCS#1
// RSA, SEC1 EC or PKCS#8 RSA/EC. It returns the key and the Alg it implies.
// Its errors describe the problem in words that follow "private key for ID".
func parsePrivateKey(s string) (crypto.Signer, Alg, error) {
	b, err := onlyBlock(s)
	if errors.Is(err, errNoPEM) {
		return nil, "", problem(ErrNotPEM, "is not PEM ("+wantPrivate+")")
	}
	if err != nil {
		return nil, "", problem(ErrBadKey, "%v", err)
	}
	var key any
	switch b.Type {
	case pemPKCS1:
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case pemSEC1:
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case pemPKCS8:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	default:
		return nil, "", problem(ErrNotPEM, "is a %q PEM block, not a private key (%s)", b.Type, wantPrivate)
	}
	if err != nil {
		return nil, "", problem(ErrBadKey, "is %s PEM that does not parse: %v", b.Type, derError(err))
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, "", problem(ErrUnsupportedKey, "is a %T (want RSA or EC P-256)", key)
	}
	alg, err := algOfPublic(signer.Public())
	if err != nil {
		return nil, "", problem(ErrUnsupportedKey, "%v", err)
	}
	return signer, alg, nil
}

// marshalPrivateKey returns key as PEM in the form the tutorial's openssl
// commands made: PKCS#1 for RSA, SEC1 for EC.
func marshalPrivateKey(key crypto.Signer) ([]byte, error) {
	var b pem.Block
	switch k := key.(type) {
	case *rsa.PrivateKey:
		b = pem.Block{Type: pemPKCS1, Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		b = pem.Block{Type: pemSEC1, Bytes: der}
	default:
		return nil, fmt.Errorf("%T keys are not supported (want RSA or EC P-256)", key)
	}
	return pem.EncodeToMemory(&b), nil
}

// EncodePublicKey returns pub (RSA, or EC P-256) as a flattened PKIX
// "PUBLIC KEY" PEM block, the form registry files keep.
func EncodePublicKey(pub crypto.PublicKey) (string, error) {
	if _, err := AlgOf(pub); err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return Flatten(pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der})), nil
}

// DecodePublicKey parses a PKIX "PUBLIC KEY" PEM block (flattened or not) and
// returns the key and the Alg it implies.
func DecodePublicKey(s string) (crypto.PublicKey, Alg, error) {
	b, err := onlyBlock(s)
	if errors.Is(err, errNoPEM) {
		return nil, "", problem(ErrNotPEM, "is not PEM (want a PUBLIC KEY block)")
	}
	if err != nil {
		return nil, "", problem(ErrBadKey, "%v", err)
	}
	if b.Type != pemPublic {
		return nil, "", problem(ErrNotPEM, "is a %q PEM block (want PUBLIC KEY)", b.Type)
	}
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, "", problem(ErrBadKey, "is PUBLIC KEY PEM that does not parse: %v", derError(err))
	}
	alg, err := algOfPublic(pub)
	if err != nil {
		return nil, "", problem(ErrUnsupportedKey, "%v", err)
	}
	return pub, alg, nil
}

// derError shortens encoding/asn1's long structural errors, which say nothing
// a person can act on, and keeps x509's, which do.
func derError(err error) string {
	if msg := err.Error(); !strings.HasPrefix(msg, "asn1:") {
		return msg
	}
	return "malformed DER (the key is damaged or not a key)"
}
