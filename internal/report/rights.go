package report

import "github.com/custodyhq/custody/internal/requests"

// rights tells the person, in plain language, what else the law named lets
// them do (GDPR Art. 15(1)(e)–(f) asks for this in an access report), and
// how to reach the business.
func rights(r Report) section {
	s := section{ID: "rights", Title: "Your rights"}
	var list []string
	switch j := requests.Jurisdiction(r.Jurisdiction.Key); {
	case j == requests.GDPR:
		list = []string{
			"Ask us to correct information that is wrong or incomplete (GDPR Article 16).",
			"Ask us to delete your information (Article 17).",
			"Ask us to restrict how we use it (Article 18), and object to our using it (Article 21), including for direct marketing.",
			"Receive the information you gave us in a machine-readable form, or have it sent to another company (Article 20). " +
				"The JSON copy of this report is machine-readable.",
			"Not be subject to a decision based only on automated processing that significantly affects you (Article 22).",
			"Complain to a data protection supervisory authority, such as the one where you live or work (Article 77).",
		}
	case j == requests.Malaysia:
		list = []string{
			"Access your personal data and ask us to correct it (sections 30 and 34).",
			"Withdraw your consent to our processing it (section 38).",
			"Ask us to stop processing that is likely to cause you substantial damage or distress (section 42).",
			"Ask us to stop using it for direct marketing (section 43).",
		}
	case j == requests.CCPA:
		list = []string{
			"Know what personal information we collect about you and how we use and disclose it, and get a copy of it.",
			"Ask us to delete it, and to correct it if it is wrong.",
			"Tell us not to sell or share it, at any time, including through a Global Privacy Control signal.",
			"Limit our use of your sensitive personal information.",
			"Not be treated differently for using these rights.",
		}
	default:
		list = []string{
			"Confirm whether we process your personal information, and get a copy of it.",
			"Ask us to correct it if it is wrong, and to delete it.",
			"Opt out of targeted advertising, the sale of your information, and profiling that has legal or similarly significant effects.",
			"Appeal our answer to a request if you disagree with it.",
		}
	}
	s.Blocks = append(s.Blocks, block{Text: "Under the " + r.Jurisdiction.Name + " you have the right to:"}, block{List: list})
	contact := "To use any of these rights, or if you have questions about this report, contact " + r.Business.Name + "."
	if r.Business.Contact != "" {
		contact = "To use any of these rights, or if you have questions about this report, contact us: " + r.Business.Contact + "."
	}
	s.Blocks = append(s.Blocks, block{Text: contact})
	return s
}
