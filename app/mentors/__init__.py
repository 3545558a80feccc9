"""Youth-to-youth mentoring (ung til ung): mentors sign up, are approved, take shifts, log hours."""
