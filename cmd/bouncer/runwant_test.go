package main

// runWant is the suppression list that bouncer run must write for
// runSamples (testdata/run and the seed lines), written by hand from each
// sample's diagnostic: every address with a hard bounce or a complaint, and
// its category on the list (a complaint wins over a hard bounce). Nothing
// else may be listed: the addresses with only soft bounces, policy blocks,
// auto-replies or no failure (kijitora@neko.example.com: a policy block and
// a soft one; nekonyaan@example.org: an auto-reply) stay off it. The
// comments name the samples that decide each address, with their reason.
// Off it since issue 18: azumakuniyuki@ntt.docomo.example.ne.jp
// (rhost-nttdocomo-02, "550 Unknown user" after DATA: filtered) and
// this-local-part-does-not-exist-on-the-server@docomo.ne.jp
// (lhost-amazonses-02, SES's "5.3.0 - Other mail system problem" around
// "Unknown user": the relay and the reply disagree, filtered).
var runWant = map[string]string{
	"azumakuniyuki@example.ne.jp":                             "hard",      // lhost-office365-09 userunknown
	"bounce@simulator.amazonses.com":                          "hard",      // lhost-amazonses-09 userunknown
	"example@icloud.com":                                      "complaint", // arf-26 feedback
	"filtered@example.jp":                                     "hard",      // lhost-qmail-02 userunknown
	"filtered@libsisimai.net":                                 "hard",      // lhost-dragonfly-09 userunknown
	"i@example.ne.jp":                                         "hard",      // lhost-office365-09 userunknown
	"kijitora-nyaan@neko.kyoto.example.jp":                    "hard",      // lhost-office365-13 userunknown
	"kijitora@example.co.jp":                                  "hard",      // lhost-postfix-52 suspend, lhost-x1-01 userunknown
	"kijitora@example.com":                                    "complaint", // arf-16 feedback, arf-17 feedback, arf-22 feedback, arf-23 feedback, arf-24 feedback
	"kijitora@example.de":                                     "hard",      // rfc3464-51 userunknown
	"kijitora@example.edu":                                    "hard",      // lhost-v5sendmail-05 hostunknown (QUESTION: the sample says "Remote protocol error: Connection reset by peer", which reads as networkerror, soft and unlisted)
	"kijitora@example.jp":                                     "hard",      // lhost-exchange2003-03 userunknown, lhost-exim-02 userunknown, lhost-mailru-04 userunknown, rhost-apple-01 hasmoved
	"kijitora@example.net":                                    "hard",      // lhost-exim-37 hostunknown
	"kijitora@example.or.jp":                                  "hard",      // lhost-gmail-18 userunknown, lhost-mcafee-03 userunknown
	"kijitora@example.org":                                    "complaint", // arf-19 feedback, arf-20 feedback (DMARC auth-failure reports); also lhost-mfilter-03 userunknown, lhost-v5sendmail-05 hostunknown
	"kijitora@google.example.com":                             "hard",      // lhost-amazonses-20 suspend
	"kijitora@neko.example.org":                               "hard",      // lhost-x5-01 userunknown
	"kijitora@neko.nyaan.example.com":                         "hard",      // rfc3464-37 hostunknown
	"kijitora@nyaan.example.com":                              "hard",      // lhost-sendmail-37 userunknown
	"kijitora@user.example.or.jp":                             "hard",      // lhost-postfix-07 userunknown
	"kijitora@y.example.com":                                  "complaint", // arf-14 feedback
	"kuroneko@example.com":                                    "complaint", // arf-16 feedback
	"kuroneko@example.or.jp":                                  "hard",      // lhost-v5sendmail-05 hostunknown
	"mikeneko@example.co.jp":                                  "hard",      // lhost-v5sendmail-05 userunknown
	"mikeneko@example.com":                                    "complaint", // arf-16 feedback
	"mikeneko@example.jp":                                     "hard",      // lhost-yandex-02 userunknown
	"neko@email.example.ua":                                   "hard",      // rhost-iua-01 suspend
	"neko@libsisimai.org":                                     "hard",      // lhost-sendmail-57 notaccept, lhost-yahoo-09 notaccept
	"otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp":          "hard",      // lhost-mailru-08 userunknown, lhost-messagingserver-09 userunknown, lhost-postfix-36 userunknown, rfc3464-58 userunknown
	"postmaster@cx.libsisimai.org":                            "hard",      // lhost-dragonfly-04 hostunknown
	"pseudo-local-part-kijitora-nyaaan@orange.fr":             "hard",      // rhost-franceptt-01 userunknown
	"redacted@example.net":                                    "complaint", // arf-01 feedback
	"sabatora@example.com":                                    "complaint", // arf-16 feedback
	"sabatora@example.jp":                                     "hard",      // lhost-exim-02 userunknown
	"sabatora@example.net":                                    "complaint", // arf-17 feedback
	"sabineko@example.co.jp":                                  "hard",      // rhost-outlook-04 userunknown
	"sabineko@example.com":                                    "complaint", // arf-16 feedback
	"seed-chkuser@example.net":                                "hard",      // seedLines: 511 no mailbox here by that name
	"seed-invalid@example.co.kr":                              "hard",      // seedLines: 550 Invalid recipient
	"seed-nosuchuser@example.net":                             "hard",      // seedLines: 550 5.1.1 No such user
	"seed-unknown@example.net":                                "hard",      // seedLines: 550 User unknown
	"sirokiji@example.org":                                    "complaint", // arf-16 feedback
	"sironeko@example.com":                                    "complaint", // arf-16 feedback
	"this-local-part-does-not-exist-on-the-server@example.jp": "hard",      // lhost-sendgrid-02 userunknown
	"this-local-part-does-not-exist-on-the-system@mineo.jp":   "hard",      // lhost-sendmail-27 userunknown
	"this-local-part-does-not-exist-on-yahoo@yahoo.com":       "complaint", // arf-02 feedback
	"this-local-part-does-not-exist@ezweb.ne.jp":              "hard",      // lhost-ezweb-07 userunknown
	"this-local-part-does-not-exist@rakumail.jp":              "hard",      // lhost-postfix-76 userunknown
	"user@example.com":                                        "complaint", // arf-12 feedback
	"userunknown@example.jp":                                  "hard",      // lhost-gmail-01 userunknown, lhost-qmail-02 userunknown
	"userunknown@libsisimai.net":                              "hard",      // lhost-dragonfly-24 userunknown, lhost-opensmtpd-17 userunknown
	"xxxx@xxxx.net":                                           "hard",      // lhost-exim-61 userunknown
}
