"""Patients' data rights: export (Art. 15/20), erasure (Art. 17) and clinical retention."""
