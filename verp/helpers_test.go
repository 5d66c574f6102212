package verp_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
)

func hmacSHA1Hex(key, msg string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
