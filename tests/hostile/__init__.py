"""The standing hostile-input suite (issue 12, section 3): arbitrary and boundary values
posted to every route on both databases; no 5xx, and a normal LAPOR still gets its reply."""
