# Turns worker/mail/templates/* into a C++ table of {name, text}, so the
# binary carries its message templates (the container image holds one file).
file(GLOB files ${TEMPLATE_DIR}/*.txt ${TEMPLATE_DIR}/*.html)
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(fname ${f} NAME)
  file(READ ${f} text)
  set(body "${body}  {\"${fname}\", R\"authd_template(${text})authd_template\"},\n")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from worker/mail/templates by cmake/embed_mail_templates.cmake. Do not edit.\n#include \"mail/templates.h\"\n\nnamespace authd::mail {\nconst std::vector<EmbeddedTemplate>& embedded_templates() {\n  static const std::vector<EmbeddedTemplate> all = {\n${body}  };\n  return all;\n}\n}  // namespace authd::mail\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
