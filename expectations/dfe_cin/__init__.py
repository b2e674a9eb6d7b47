"""DfE's CIN census validation rules, run as DfE runs them: per file, on its rows as submitted, per census year."""
