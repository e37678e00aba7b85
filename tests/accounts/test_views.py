from django.urls import reverse

def test_dump(client, db):
    r = client.post(reverse("accounts:register_eligibility"), {"works_in_guizhou": "yes", "holds_qualification": "no"})
    r = client.get(reverse("accounts:register"))
    open("/tmp/scratch/register.html", "w").write(r.content.decode())
    r = client.post(reverse("accounts:register"), {"name": "张三", "id_type": "resident_id_card", "id_number": "52010219900307001X", "password1": "Abc", "password2": "Abc", "mobile": "13912345678", "sms_code": "123456"})
    open("/tmp/scratch/register_err.html", "w").write(r.content.decode())
    r = client.get(reverse("accounts:login"))
    open("/tmp/scratch/login.html", "w").write(r.content.decode())
    r = client.post(reverse("accounts:login"), {"id_number": "52010219900307001X", "password": "x"})
    open("/tmp/scratch/login_err.html", "w").write(r.content.decode())
    r = client.get(reverse("accounts:password_reset"))
    open("/tmp/scratch/reset.html", "w").write(r.content.decode())
