"""Printed forms: the CMS-1500 (02/12) field mapping (pure), its layout, and the PDF drawing."""
