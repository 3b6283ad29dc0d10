"""What a coach or a person does with the contact agreements: log a contact, import a contact
list, report on the input against the yearly target."""
