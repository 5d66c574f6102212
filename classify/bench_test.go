package classify

import (
	"testing"

	"github.com/bouncer-dev/bouncer/dsn"
)

// benchInputs is a realistic mix: DSN records with codes and short
// diagnostics, free-text bounces with longer ones, in several languages.
func benchInputs() []Input {
	var ins []Input
	for _, r := range seedRows {
		ins = append(ins, Input{Kind: dsn.KindDSN, Status: "5.0.0", ReplyCode: r.line[:3], Diagnostic: r.line, Action: "failed"})
	}
	ins = append(ins,
		Input{Kind: dsn.KindDSN, Status: "5.1.1", ReplyCode: "550", Action: "failed",
			Diagnostic: "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser d75a77b69052e-4b1234567890si123456qtb.123 - gsmtp"},
		Input{Kind: dsn.KindBounce, Vendor: "qmail",
			Diagnostic: "<kijitora@example.jp>:\n192.0.2.153 does not like recipient.\nRemote host said: 550 5.1.1 <kijitora@example.jp>... User Unknown\nGiving up on 192.0.2.153.\n"},
		Input{Kind: dsn.KindBounce, Vendor: "exim",
			Diagnostic: "kijitora@example.com\n    host mx.example.com [192.0.2.222]\n    SMTP error from remote mail server after end of data:\n    550 5.7.1 Message rejected because of unacceptable content: spam score exceeded threshold\n"},
		Input{Kind: dsn.KindBounce, Diagnostic: "Это письмо создано автоматически сервером Mail.Ru. К сожалению, Ваше письмо не может быть доставлено: почтовый ящик переполнен."},
		Input{Kind: dsn.KindBounce, Diagnostic: "次のあて先へのメッセージはエラーのため送信できませんでした。宛先のユーザが存在しません。"},
	)
	return ins
}

func BenchmarkClassify(b *testing.B) {
	ins := benchInputs()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Classify(ins[i%len(ins)])
	}
}
