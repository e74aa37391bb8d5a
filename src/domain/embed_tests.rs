//! Boundary tests for every embed limit: exactly at the limit passes, one over fails naming the field.

use super::*;

fn s(n: usize) -> String {
    "é".repeat(n) // multi-byte on purpose: limits count characters, not bytes
}

fn field(name: &str, value: &str) -> EmbedField {
    EmbedField {
        name: name.into(),
        value: value.into(),
        inline: false,
    }
}

fn titled() -> Embed {
    Embed {
        title: Some("Hello".into()),
        ..Embed::default()
    }
}

#[track_caller]
fn fails_on(e: &Embed, field: &str) {
    match e.validate("") {
        Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected an error naming {field}, got {other:?}"),
    }
}

#[test]
fn title_passes_at_256_and_fails_at_257_naming_title() {
    let mut e = Embed {
        title: Some(s(256)),
        ..Embed::default()
    };
    e.validate("").unwrap();
    e.title = Some(s(257));
    fails_on(&e, "title");
}

#[test]
fn description_passes_at_4096_and_fails_at_4097() {
    let mut e = Embed {
        description: Some(s(4096)),
        ..Embed::default()
    };
    e.validate("").unwrap();
    e.description = Some(s(4097));
    fails_on(&e, "description");
}

#[test]
fn an_embed_may_have_25_fields_but_not_26() {
    let mut e = titled();
    e.fields = (0..25).map(|i| field(&format!("f{i}"), "v")).collect();
    e.validate("").unwrap();
    e.fields.push(field("one more", "v"));
    fails_on(&e, "fields");
}

#[test]
fn field_name_and_value_limits_name_the_field_index() {
    let mut e = titled();
    e.fields = vec![field("a", "b"), field(&s(256), &s(1024))];
    e.validate("").unwrap();
    e.fields[1].name = s(257);
    fails_on(&e, "fields[1].name");
    e.fields[1].name = "ok".into();
    e.fields[1].value = s(1025);
    fails_on(&e, "fields[1].value");
    e.fields[1].value = " ".into();
    fails_on(&e, "fields[1].value");
}

#[test]
fn footer_passes_at_2048_and_fails_at_2049() {
    let mut e = Embed {
        footer: Some(EmbedFooter {
            text: s(2048),
            icon_url: None,
        }),
        ..Embed::default()
    };
    e.validate("").unwrap();
    e.footer.as_mut().unwrap().text = s(2049);
    fails_on(&e, "footer.text");
}

#[test]
fn author_name_passes_at_256_and_fails_at_257() {
    let mut e = Embed {
        author: Some(EmbedAuthor {
            name: s(256),
            url: None,
            icon_url: None,
        }),
        ..Embed::default()
    };
    e.validate("").unwrap();
    e.author.as_mut().unwrap().name = s(257);
    fails_on(&e, "author.name");
}

#[test]
fn all_text_together_may_be_6000_but_not_6001() {
    // 4096 + 256 + 1024 + 256 + 368 = 6000
    let mut e = Embed {
        title: Some(s(256)),
        description: Some(s(4096)),
        fields: vec![field(&s(256), &s(1024))],
        footer: Some(EmbedFooter {
            text: s(368),
            icon_url: None,
        }),
        ..Embed::default()
    };
    e.validate("").unwrap();
    e.footer.as_mut().unwrap().text = s(369);
    fails_on(&e, "embed");
    match e.validate("embed.") {
        Err(DomainError::Invalid { field, .. }) => assert_eq!(field, "embed"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn colour_must_fit_in_24_bits() {
    let mut e = titled();
    e.color = Some(0xFF_FFFF);
    e.validate("").unwrap();
    e.color = Some(0);
    e.validate("").unwrap();
    e.color = Some(0x100_0000);
    fails_on(&e, "color");
}

#[test]
fn colours_parse_from_hex_or_decimal() {
    assert_eq!(parse_color("#5865F2").unwrap(), 0x5865F2);
    assert_eq!(parse_color("0xffffff").unwrap(), 0xFFFFFF);
    assert_eq!(parse_color("ff8800").unwrap(), 0xFF8800);
    assert_eq!(parse_color("255").unwrap(), 255);
    assert!(parse_color("#1000000").is_err());
    assert!(parse_color("red").is_err());
}

#[test]
fn every_url_must_be_http_or_https_and_names_its_field() {
    let good = Some("https://example.com/a.png".to_string());
    let bad = Some("javascript:alert(1)".to_string());
    let base = Embed {
        title: Some("t".into()),
        url: good.clone(),
        image_url: good.clone(),
        thumbnail_url: Some("http://example.com/t.png".into()),
        footer: Some(EmbedFooter {
            text: "f".into(),
            icon_url: good.clone(),
        }),
        author: Some(EmbedAuthor {
            name: "a".into(),
            url: good.clone(),
            icon_url: good.clone(),
        }),
        ..Embed::default()
    };
    base.validate("").unwrap();
    type SetUrl = fn(&mut Embed, Option<String>);
    let cases: [(&str, SetUrl); 6] = [
        ("url", |e, v| e.url = v),
        ("image_url", |e, v| e.image_url = v),
        ("thumbnail_url", |e, v| e.thumbnail_url = v),
        ("footer.icon_url", |e, v| {
            e.footer.as_mut().unwrap().icon_url = v
        }),
        ("author.url", |e, v| e.author.as_mut().unwrap().url = v),
        ("author.icon_url", |e, v| {
            e.author.as_mut().unwrap().icon_url = v
        }),
    ];
    for (name, set) in cases {
        let mut e = base.clone();
        set(&mut e, bad.clone());
        fails_on(&e, name);
        set(&mut e, Some("ftp://example.com/x".into()));
        fails_on(&e, name);
        set(&mut e, Some("https://".into()));
        fails_on(&e, name);
        set(&mut e, Some("https://exa mple.com".into()));
        fails_on(&e, name);
    }
}

#[test]
fn an_empty_embed_is_refused() {
    fails_on(&Embed::default(), "embed");
    let blank = Embed {
        title: Some("  ".into()),
        ..Embed::default()
    };
    fails_on(&blank, "embed");
}

#[test]
fn a_prefix_is_put_in_front_of_field_names() {
    let e = Embed {
        title: Some(s(257)),
        ..Embed::default()
    };
    match e.validate("embed.") {
        Err(DomainError::Invalid { field, .. }) => assert_eq!(field, "embed.title"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn message_content_passes_at_2000_and_fails_at_2001() {
    validate_content("content", &s(2000)).unwrap();
    let err = validate_content("content", &s(2001)).unwrap_err();
    assert!(err.to_string().starts_with("content:"), "{err}");
}

#[test]
fn truncation_counts_characters_and_marks_the_cut() {
    assert_eq!(truncate_chars("héllo", 5), "héllo");
    assert_eq!(truncate_chars("héllo!", 5), "héll…");
    assert_eq!(truncate_chars(&s(300), 256).chars().count(), 256);
}

#[test]
fn unknown_embed_fields_are_refused_when_deserializing() {
    let err = serde_json::from_str::<Embed>(r#"{"titel":"x"}"#).unwrap_err();
    assert!(err.to_string().contains("titel"), "{err}");
}
