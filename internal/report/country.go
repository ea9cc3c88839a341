package report

import (
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// countryName returns the English name of an ISO 3166-1 alpha-2 code
// ("US" → "United States"), or the code itself when it has none.
func countryName(code string) string {
	region, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if name := display.English.Regions().Name(region); name != "" {
		return name
	}
	return code
}
