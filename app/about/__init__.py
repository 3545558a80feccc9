"""The portal's own pages about itself: privacy policy, cookies and the accessibility statement."""
