"""Reports on tagged comments: "you said, we did" for a patient-experience team and its board."""
