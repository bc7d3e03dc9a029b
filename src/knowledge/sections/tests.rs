//! The splitters on realistic documents, odd input and garbage.

use super::*;

// Fixtures: realistic documents. Line numbers in the assertions are 0-based.
const README_MD: &str = r##"---
title: Orders service
tags: [api]
---
Orders service for the shop.

Quick facts live here.

Orders
======

Intro to orders.

## Install

```sh
# not a heading
cargo install orders
```

Usage
-----

Run it.

## Install

Again.

### Config ##

Set `ORDERS_URL`.

---
Not an underline: the line above is a thematic break.

## Notes & *FAQ* [link](http://example.com/faq)
"##;

const PETSTORE_YAML: &str = r##"openapi: 3.0.3
info:
  title: Petstore
  version: "1.0.0"
  description: |
    A sample pet store.
    get: this line is not a key
servers:
  - url: https://petstore.example.com/v1
paths:
  /pets:
    get:
      summary: List all pets
      operationId: listPets
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
      responses:
        '200':
          description: A page of pets
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Pets'
        default:
          $ref: "#/components/responses/Error"
    post:
      summary: Create a pet
      description: >
        Creates a pet.
        get: not an operation either, $ref: '#/components/schemas/Ghost'
      requestBody:
        $ref: '#/components/requestBodies/NewPet'
      responses:
        '201':
          description: Created

  "/pets/{petId}":
    parameters:
      - $ref: '#/components/parameters/PetId'
    get:
      operationId: showPetById # inline comment
      responses:
        '200':
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Pet' }
    delete:
      responses:
        '204':
          description: Deleted
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id:
          type: integer
        tag:
          $ref: '#/components/schemas/Tag'
        parent:
          $ref: '#/components/schemas/Pet'
    Pets:
      type: array
      items:
        $ref: '#/components/schemas/Pet'
    Tag:
      type: string
  # Shared error model.
  responses:
    Error:
      description: Unexpected error
  requestBodies:
    NewPet:
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Pet'
  parameters:
    PetId:
      name: petId
      in: path
      required: true
      schema:
        type: string
"##;

/// PETSTORE_YAML converted by a real YAML parser and `json.dumps(indent=2)`.
const PETSTORE_JSON: &str = r##"{
  "openapi": "3.0.3",
  "info": {
    "title": "Petstore",
    "version": "1.0.0",
    "description": "A sample pet store.\nget: this line is not a key\n"
  },
  "servers": [
    {
      "url": "https://petstore.example.com/v1"
    }
  ],
  "paths": {
    "/pets": {
      "get": {
        "summary": "List all pets",
        "operationId": "listPets",
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of pets",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Pets"
                }
              }
            }
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      },
      "post": {
        "summary": "Create a pet",
        "description": "Creates a pet. get: not an operation either, $ref: '#/components/schemas/Ghost'\n",
        "requestBody": {
          "$ref": "#/components/requestBodies/NewPet"
        },
        "responses": {
          "201": {
            "description": "Created"
          }
        }
      }
    },
    "/pets/{petId}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/PetId"
        }
      ],
      "get": {
        "operationId": "showPetById",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Pet"
                }
              }
            }
          }
        }
      },
      "delete": {
        "responses": {
          "204": {
            "description": "Deleted"
          }
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Pet": {
        "type": "object",
        "required": [
          "id",
          "name"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "tag": {
            "$ref": "#/components/schemas/Tag"
          },
          "parent": {
            "$ref": "#/components/schemas/Pet"
          }
        }
      },
      "Pets": {
        "type": "array",
        "items": {
          "$ref": "#/components/schemas/Pet"
        }
      },
      "Tag": {
        "type": "string"
      }
    },
    "responses": {
      "Error": {
        "description": "Unexpected error"
      }
    },
    "requestBodies": {
      "NewPet": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Pet"
            }
          }
        }
      }
    },
    "parameters": {
      "PetId": {
        "name": "petId",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string"
        }
      }
    }
  }
}
"##;

const SWAGGER_YAML: &str = r##"swagger: "2.0"
info:
  title: Legacy users
  version: "1"
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters:
      - $ref: '#/parameters/UserId'
      responses:
        200:
          description: OK
          schema:
            $ref: '#/definitions/User'
definitions:
  User:
    type: object
    properties:
      address:
        $ref: '#/definitions/Address'
      friends:
        type: array
        items:
          $ref: '#/definitions/User'
  Address:
    type: object
parameters:
  UserId:
    name: id
    in: path
    type: string
"##;

const SCHEMA_GRAPHQL: &str = r##"# Orders schema.

"""
An order placed by a customer.
"""
type Order implements Node & Timestamped @key(fields: "id") {
  id: ID!
  "The line items."
  items(first: Int = 10, status: ItemStatus = ACTIVE): [LineItem!]!
  customer: Customer
  total: Money @deprecated(reason: "Use totals")
  parent: Order
}

"Status of an order."
enum Status {
  OPEN
  SHIPPED @deprecated(reason: "use DONE")
  DONE
}

union SearchResult = Order | Customer

input NewOrder {
  customerId: ID!
  items: [NewItem!]! = []
  status: Status = OPEN
  meta: MetaInput = { source: WEB, tags: ["a"] }
}

# Money in cents.
scalar Money

interface Node {
  id: ID!
}

extend type Order {
  notes: [Note]
}

directive @auth(requires: Role = ADMIN) on OBJECT | FIELD_DEFINITION

schema {
  query: Query
  mutation: Mutation
}

type Query {
  order(id: ID!): Order
  search(term: String!): [SearchResult!]!
}
"##;

const ORDERS_PROTO: &str = r##"// Orders API.
// Copyright example.

syntax = "proto3";

package shop.orders.v1;

import "google/protobuf/timestamp.proto";
import "google/protobuf/empty.proto";

option go_package = "example.com/shop/orders/v1;ordersv1";
option java_multiple_files = true;

// An order.
message Order {
  string id = 1;
  repeated Item items = 2;
  google.protobuf.Timestamp created_at = 3;
  Status status = 4;
  map<string, Item> by_sku = 5;

  // A line item.
  message Item {
    string sku = 1;
    int32 quantity = 2;
    Money price = 3 [deprecated = true];
  }

  oneof payment {
    Card card = 6;
    string voucher = 7;
  }
}

/* The state
   of an order. */
enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_OPEN = 1;
}

message Money { int64 cents = 1; string currency = 2; }

// Orders service.
service Orders {
  rpc GetOrder(GetOrderRequest) returns (Order);
  rpc WatchOrders(stream WatchRequest) returns (stream Order) {
    option (google.api.http) = { get: "/v1/orders:watch" };
  }
  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);
}
"##;

/// One line per section: kind, title, anchor, names, parent, level, lines, refs.
fn outline(sections: &[Section]) -> Vec<String> {
    sections
        .iter()
        .map(|s| {
            format!(
                "{:?} {:?} #{} names={:?} parent={:?} level={} {}..={} refs={:?}",
                s.kind,
                s.title,
                s.anchor,
                s.names,
                s.parent,
                s.level,
                s.start_line,
                s.end_line,
                s.refs
            )
        })
        .collect()
}

fn check(kind: DocKind, text: &str, expected: &[&str]) -> Vec<Section> {
    let sections = match split(kind, text) {
        Ok(sections) => sections,
        Err(error) => panic!("split failed: {error}"),
    };
    assert_eq!(outline(&sections), expected);
    sections
}

fn source_lines(text: &str, start: u32, end: u32) -> String {
    let lines = Lines::new(text);
    lines.slice(start as usize, end as usize)
}

/// Removes JSON whitespace outside strings.
fn minify(json: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn kinds_from_paths_and_text() {
    assert_eq!(
        DocKind::from_path("docs/README.MD"),
        Some(DocKind::Markdown)
    );
    assert_eq!(DocKind::from_path("a/b.mdx"), Some(DocKind::Markdown));
    assert_eq!(
        DocKind::from_path("schema.graphqls"),
        Some(DocKind::GraphQl)
    );
    assert_eq!(DocKind::from_path("api/orders.proto"), Some(DocKind::Proto));
    assert_eq!(DocKind::from_path("openapi.YML"), Some(DocKind::OpenApi));
    assert_eq!(DocKind::from_path("src/main.rs"), None);
    assert_eq!(DocKind::from_path("Makefile"), None);
    assert_eq!(DocKind::from_path("dir.md/file"), None);
    assert_eq!(DocKind::GraphQl.name(), "graphql");
    assert_eq!(DocKind::OpenApi.name(), "openapi");

    assert_eq!(
        detect("petstore.yaml", PETSTORE_YAML),
        Some(DocKind::OpenApi)
    );
    assert_eq!(
        detect("petstore.json", PETSTORE_JSON),
        Some(DocKind::OpenApi)
    );
    assert_eq!(detect("swagger.yml", SWAGGER_YAML), Some(DocKind::OpenApi));
    assert_eq!(
        detect("spec.yaml", &minify(PETSTORE_JSON)),
        Some(DocKind::OpenApi)
    );
    assert_eq!(
        detect("package.json", r#"{"name": "x", "version": "1.0.0"}"#),
        None
    );
    assert_eq!(detect("broken.json", r#"{"openapi": "3.0.0""#), None);
    assert_eq!(
        detect(".github/ci.yml", "on: push\njobs:\n  openapi: {}\n"),
        None
    );
    assert_eq!(
        detect("a.yaml", "info:\n  description: |\n    openapi: 3\n"),
        None
    );
    assert_eq!(detect("README.md", "whatever"), Some(DocKind::Markdown));
}

#[test]
fn markdown_readme() {
    let sections = check(
        DocKind::Markdown,
        README_MD,
        &[
            r#"Preamble "" # names=[] parent=None level=0 4..=6 refs=[]"#,
            r#"Heading "Orders" #orders names=[] parent=None level=1 8..=11 refs=[]"#,
            r#"Heading "Install" #install names=[] parent=Some(1) level=2 13..=18 refs=[]"#,
            r#"Heading "Usage" #usage names=[] parent=Some(1) level=2 20..=23 refs=[]"#,
            r#"Heading "Install" #install-1 names=[] parent=Some(1) level=2 25..=27 refs=[]"#,
            r#"Heading "Config" #config names=[] parent=Some(4) level=3 29..=34 refs=[]"#,
            r#"Heading "Notes & *FAQ* [link](http://example.com/faq)" #notes--faq-link names=[] parent=Some(1) level=2 36..=36 refs=[]"#,
        ],
    );
    assert_eq!(
        sections[0].text,
        "Orders service for the shop.\n\nQuick facts live here."
    );
    assert_eq!(sections[1].text, "Orders\n======\n\nIntro to orders.");
    assert_eq!(
        sections[2].text,
        "## Install\n\n```sh\n# not a heading\ncargo install orders\n```"
    );
    assert_eq!(sections[3].text, "Usage\n-----\n\nRun it.");
    assert_eq!(
        sections[5].text,
        "### Config ##\n\nSet `ORDERS_URL`.\n\n---\nNot an underline: the line above is a thematic break."
    );
    for section in &sections {
        assert_eq!(
            section.text,
            source_lines(README_MD, section.start_line, section.end_line)
        );
    }
}

#[test]
fn markdown_block_rules() {
    let text = "Intro\n\
                #hashtag is not a heading\n\
                \x20\x20\x20# Three spaces\n\
                \x20\x20\x20\x20# Four spaces is code\n\
                \n\
                - item\n\
                ---\n\
                > quote\n\
                ===\n\
                \n\
                Two line\n\
                title\n\
                ===\n\
                ````md\n\
                ```\n\
                # inside a longer fence\n\
                ````\n\
                <!--\n\
                # commented out\n\
                -->\n\
                # Closed # ##\n\
                ~~~\n\
                # unclosed fence runs to the end\n";
    check(
        DocKind::Markdown,
        text,
        &[
            r#"Preamble "" # names=[] parent=None level=0 0..=1 refs=[]"#,
            // `- item` + `---` is a list and a break; `> quote` + `===` is a lazy
            // continuation line; four spaces make code.
            r#"Heading "Three spaces" #three-spaces names=[] parent=None level=1 2..=8 refs=[]"#,
            // A setext heading takes the whole paragraph; fences and HTML comments hide
            // `#` lines; `# Closed # ##` loses only its closing sequence.
            r#"Heading "Two line title" #two-line-title names=[] parent=None level=1 10..=19 refs=[]"#,
            r#"Heading "Closed #" #closed- names=[] parent=None level=1 20..=22 refs=[]"#,
        ],
    );
}

#[test]
fn markdown_crlf_tabs_and_empty() {
    let text =
        "---\r\ntitle: x\r\n---\r\n# One\r\n\r\nBody\r\n\t# tab-indented code\r\n## Two ##\r\n";
    let sections = check(
        DocKind::Markdown,
        text,
        &[
            r#"Heading "One" #one names=[] parent=None level=1 3..=6 refs=[]"#,
            r#"Heading "Two" #two names=[] parent=Some(0) level=2 7..=7 refs=[]"#,
        ],
    );
    assert_eq!(sections[0].text, "# One\n\nBody\n\t# tab-indented code");
    check(DocKind::Markdown, "", &[]);
    check(DocKind::Markdown, "---\nonly: front matter\n---\n\n", &[]);
    check(
        DocKind::Markdown,
        "\u{feff}# Title",
        &[r#"Heading "Title" #title names=[] parent=None level=1 0..=0 refs=[]"#],
    );
}

#[test]
fn github_slugs() {
    let slug = |title: &str| github_slug(title);
    assert_eq!(slug("Getting Started"), "getting-started");
    assert_eq!(slug("What's new in v2.0?"), "whats-new-in-v20");
    assert_eq!(
        slug("snake_case and kebab-case"),
        "snake_case-and-kebab-case"
    );
    assert_eq!(slug("`split()` API"), "split-api");
    assert_eq!(slug("Über Größe"), "über-größe");
    assert_eq!(slug("![badge](https://img) Project"), "-project");
    assert_eq!(slug("[Docs][docs] & <em>more</em>"), "docs--more");
    assert_eq!(slug("a [b c"), "a-b-c");
    assert_eq!(slug("1 < 2 > 0"), "1--2--0");
    let mut slugger = Slugger::default();
    let anchors: Vec<String> = ["Usage", "Usage", "Usage-1", "Usage"]
        .iter()
        .map(|t| slugger.slug(slug(t)))
        .collect();
    assert_eq!(anchors, ["usage", "usage-1", "usage-1-1", "usage-2"]);
}

#[test]
fn markdown_long_section_is_split_at_blank_lines_outside_fences() {
    // Line 0 "# Big", paragraphs with a blank line at every i % 4 == 1, a fence over
    // lines 90..=130 (with blank lines inside), and a subsection at line 300.
    let mut lines = vec!["# Big".to_string()];
    for i in 1..300 {
        lines.push(match i {
            90 => "```text".to_string(),
            130 => "```".to_string(),
            91..=129 if i % 4 == 1 => String::new(),
            91..=129 => format!("code {i}"),
            _ if i % 4 == 1 => String::new(),
            _ => format!("word {i}"),
        });
    }
    lines.push("## After".to_string());
    lines.push("Tail.".to_string());
    let text = lines.join("\n");
    let sections = check(
        DocKind::Markdown,
        &text,
        &[
            // The last blank line outside the fence within 120 lines is 89.
            r#"Heading "Big" #big names=[] parent=None level=1 0..=88 refs=[]"#,
            // The fence starts at 90; from there the last open blank line is 209.
            r#"Heading "Big (2)" #big names=[] parent=None level=1 90..=208 refs=[]"#,
            r#"Heading "Big (3)" #big names=[] parent=None level=1 210..=299 refs=[]"#,
            r#"Heading "After" #after names=[] parent=Some(0) level=2 300..=301 refs=[]"#,
        ],
    );
    assert!(sections[1].text.starts_with("```text\ncode 91\ncode 92\n"));
    assert!(sections[2].text.starts_with("word 210\nword 211\n"));
    for section in &sections {
        assert_eq!(
            section.text,
            source_lines(&text, section.start_line, section.end_line)
        );
    }
    // Without blank lines the cut is hard, at 120 lines.
    let dense: String = (0..250).map(|i| format!("line {i}\n")).collect();
    check(
        DocKind::Markdown,
        &dense,
        &[
            r#"Preamble "" # names=[] parent=None level=0 0..=119 refs=[]"#,
            r#"Preamble "(2)" # names=[] parent=None level=0 120..=239 refs=[]"#,
            r#"Preamble "(3)" # names=[] parent=None level=0 240..=249 refs=[]"#,
        ],
    );
}

#[test]
fn openapi_yaml() {
    let sections = check(
        DocKind::OpenApi,
        PETSTORE_YAML,
        &[
            r#"Preamble "" # names=[] parent=None level=0 1..=6 refs=[]"#,
            r#"Operation "GET /pets" #listPets names=["listPets", "/pets"] parent=None level=0 11..=27 refs=["Pets", "Error"]"#,
            r#"Operation "POST /pets" #post-pets names=["/pets"] parent=None level=0 28..=37 refs=["NewPet"]"#,
            r#"Operation "GET /pets/{petId}" #showPetById names=["showPetById", "/pets/{petId}"] parent=None level=0 42..=48 refs=["Pet", "PetId"]"#,
            r#"Operation "DELETE /pets/{petId}" #delete-petspetid names=["/pets/{petId}"] parent=None level=0 49..=52 refs=["PetId"]"#,
            r#"Schema "Pet" #Pet names=["Pet"] parent=None level=0 55..=64 refs=["Tag"]"#,
            r#"Schema "Pets" #Pets names=["Pets"] parent=None level=0 65..=68 refs=["Pet"]"#,
            r#"Schema "Tag" #Tag names=["Tag"] parent=None level=0 69..=70 refs=[]"#,
            r#"Schema "Error" #Error names=["Error"] parent=None level=0 73..=74 refs=[]"#,
            r#"Schema "NewPet" #NewPet names=["NewPet"] parent=None level=0 76..=80 refs=["Pet"]"#,
            r#"Schema "PetId" #PetId names=["PetId"] parent=None level=0 82..=87 refs=[]"#,
        ],
    );
    assert_eq!(
        sections[0].text,
        "info:\n  title: Petstore\n  version: \"1.0.0\"\n  description: |\n    A sample pet store.\n    get: this line is not a key"
    );
    assert_eq!(
        sections[3].text,
        "# GET /pets/{petId}\n    get:\n      operationId: showPetById # inline comment\n      responses:\n        '200':\n          content:\n            application/json:\n              schema: { $ref: '#/components/schemas/Pet' }\n    parameters:\n      - $ref: '#/components/parameters/PetId'"
    );
    // The folded description's `get:` and `$ref` are text, not structure.
    assert!(sections[2]
        .text
        .starts_with("# POST /pets\n    post:\n      summary: Create a pet\n"));
    assert!(sections[2].text.ends_with("          description: Created"));
    for section in &sections[5..] {
        assert_eq!(
            section.text,
            source_lines(PETSTORE_YAML, section.start_line, section.end_line)
        );
    }
}

#[test]
fn openapi_json_pretty_and_minified() {
    let expected = [
        r#"Preamble "" # names=[] parent=None level=0 2..=6 refs=[]"#,
        r#"Operation "GET /pets" #listPets names=["listPets", "/pets"] parent=None level=0 14..=41 refs=["Pets", "Error"]"#,
        r#"Operation "POST /pets" #post-pets names=["/pets"] parent=None level=0 42..=53 refs=["NewPet"]"#,
        r#"Operation "GET /pets/{petId}" #showPetById names=["showPetById", "/pets/{petId}"] parent=None level=0 61..=74 refs=["Pet", "PetId"]"#,
        r#"Operation "DELETE /pets/{petId}" #delete-petspetid names=["/pets/{petId}"] parent=None level=0 75..=81 refs=["PetId"]"#,
        r#"Schema "Pet" #Pet names=["Pet"] parent=None level=0 86..=103 refs=["Tag"]"#,
        r#"Schema "Pets" #Pets names=["Pets"] parent=None level=0 104..=109 refs=["Pet"]"#,
        r#"Schema "Tag" #Tag names=["Tag"] parent=None level=0 110..=112 refs=[]"#,
        r#"Schema "Error" #Error names=["Error"] parent=None level=0 115..=117 refs=[]"#,
        r#"Schema "NewPet" #NewPet names=["NewPet"] parent=None level=0 120..=128 refs=["Pet"]"#,
        r#"Schema "PetId" #PetId names=["PetId"] parent=None level=0 131..=138 refs=[]"#,
    ];
    let pretty = check(DocKind::OpenApi, PETSTORE_JSON, &expected);
    assert_eq!(
        pretty[7].text,
        "      \"Tag\": {\n        \"type\": \"string\"\n      }"
    );
    assert!(pretty[3].text.starts_with(
        "# GET /pets/{petId}\n      \"get\": {\n        \"operationId\": \"showPetById\",\n"
    ));
    assert!(pretty[3].text.ends_with(
        "      },\n      \"parameters\": [\n        {\n          \"$ref\": \"#/components/parameters/PetId\"\n        }\n      ],"
    ));

    // The YAML and JSON forms of one document give the same sections.
    let yaml = match split(DocKind::OpenApi, PETSTORE_YAML) {
        Ok(sections) => sections,
        Err(error) => panic!("{error}"),
    };
    let identity = |s: &Section| {
        (
            s.kind,
            s.title.clone(),
            s.anchor.clone(),
            s.names.clone(),
            s.refs.clone(),
        )
    };
    assert_eq!(
        yaml.iter().map(identity).collect::<Vec<_>>(),
        pretty.iter().map(identity).collect::<Vec<_>>()
    );

    // Minified: the same sections, all on line 0, each pretty-printed like the source.
    let minified = minify(PETSTORE_JSON);
    let sections = match split(DocKind::OpenApi, &minified) {
        Ok(sections) => sections,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(
        sections.iter().map(identity).collect::<Vec<_>>(),
        pretty.iter().map(identity).collect::<Vec<_>>()
    );
    for (min, pretty) in sections.iter().zip(&pretty) {
        assert_eq!((min.start_line, min.end_line), (0, 0));
        // The pretty source, unindented and without its trailing comma, is what the
        // minified document renders to (after the same operation header).
        let (header, body) = match min.kind {
            SectionKind::Operation => pretty.text.split_once('\n').unwrap_or(("", "")),
            _ => ("", pretty.text.as_str()),
        };
        let indent = body.len() - body.trim_start().len();
        let dedented: Vec<&str> = body
            .lines()
            .map(|line| line.get(indent..).unwrap_or(line))
            .collect();
        let dedented = dedented.join("\n");
        let dedented = dedented.strip_suffix(',').unwrap_or(&dedented);
        let expected = if header.is_empty() {
            dedented.to_string()
        } else {
            format!("{header}\n{dedented}")
        };
        // The method block and the shared parameters each lose their own comma.
        let expected = expected.replace("},\n\"parameters\"", "}\n\"parameters\"");
        assert_eq!(min.text, expected, "section {}", min.title);
    }
    assert_eq!(
        sections[4].text,
        "# DELETE /pets/{petId}\n\"delete\": {\n  \"responses\": {\n    \"204\": {\n      \"description\": \"Deleted\"\n    }\n  }\n}\n\"parameters\": [\n  {\n    \"$ref\": \"#/components/parameters/PetId\"\n  }\n]"
    );
}

#[test]
fn json_pretty_printing() {
    // A minified document: each section is pretty-printed, strings and numbers as written;
    // an operationId's escapes are decoded (a lone surrogate is not a character: kept raw).
    let text = r#"{"openapi":"3.0.0","paths":{"/a":{"get":{"operationId":"\u00e9\ud83d\ude00x\n"},"put":{"operationId":"\ud800x"}}},"components":{"schemas":{"X":{"a":{},"b":[],"c":[1,{"d":"\u00e9\"x"}],"e":-1.5e3,"f":null}}}}"#;
    let sections = match split(DocKind::OpenApi, text) {
        Ok(sections) => sections,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(sections[0].anchor, "é😀x\n");
    assert_eq!(sections[1].anchor, r"\ud800x");
    assert_eq!(
        sections[2].text,
        "\"X\": {\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    1,\n    {\n      \"d\": \"\\u00e9\\\"x\"\n    }\n  ],\n  \"e\": -1.5e3,\n  \"f\": null\n}"
    );
}

#[test]
fn openapi_json_path_on_the_method_line() {
    let text = "{\"openapi\": \"3.0.0\", \"paths\": {\"/a\": {\"get\": {\n  \"operationId\": \"a\"\n}}}}\n";
    let sections = check(
        DocKind::OpenApi,
        text,
        &[r#"Operation "GET /a" #a names=["a", "/a"] parent=None level=0 0..=2 refs=[]"#],
    );
    assert_eq!(sections[0].text, source_lines(text, 0, 2));
}

#[test]
fn swagger_2() {
    let sections = check(
        DocKind::OpenApi,
        SWAGGER_YAML,
        &[
            r#"Preamble "" # names=[] parent=None level=0 1..=3 refs=[]"#,
            r#"Operation "GET /users/{id}" #getUser names=["getUser", "/users/{id}"] parent=None level=0 6..=14 refs=["UserId", "User"]"#,
            r#"Schema "User" #User names=["User"] parent=None level=0 16..=24 refs=["Address"]"#,
            r#"Schema "Address" #Address names=["Address"] parent=None level=0 25..=26 refs=[]"#,
            r#"Schema "UserId" #UserId names=["UserId"] parent=None level=0 28..=31 refs=[]"#,
        ],
    );
    assert_eq!(sections[3].text, "  Address:\n    type: object");
}

#[test]
fn openapi_errors_and_odd_yaml() {
    assert!(split(DocKind::OpenApi, "{\"openapi\": \"3.0.0\",}").is_err());
    assert!(split(DocKind::OpenApi, "{\"openapi\": \"3.0.0\"} trailing").is_err());
    assert!(split(DocKind::OpenApi, "[1, 2]").is_err());
    assert!(split(DocKind::OpenApi, "name: not an api\n").is_err());
    let deep = "[".repeat(10_000);
    match split(DocKind::OpenApi, &deep) {
        Err(error) => assert!(error.starts_with("invalid JSON at line 1"), "{error}"),
        Ok(_) => panic!("deep nesting accepted"),
    }
    // Quoted keys, comments, anchors, multi-line plain scalars and CRLF.
    let text = "openapi: '3.0.0'\r\n\
                paths:\r\n\
                \x20 # all pets\r\n\
                \x20 '/pets': &pets\r\n\
                \x20   get:\r\n\
                \x20     summary: a long\r\n\
                \x20       summary continued\r\n\
                \x20     operationId: \"list\\\"Pets\"\r\n\
                \x20     tags: [a, b]\r\n\
                \r\n";
    let sections = check(
        DocKind::OpenApi,
        text,
        &[
            r#"Operation "GET /pets" #list"Pets names=["list\"Pets", "/pets"] parent=None level=0 4..=8 refs=[]"#,
        ],
    );
    assert_eq!(
        sections[0].text,
        "# GET /pets\n    get:\n      summary: a long\n        summary continued\n      operationId: \"list\\\"Pets\"\n      tags: [a, b]"
    );
}

#[test]
fn graphql_schema() {
    let sections = check(
        DocKind::GraphQl,
        SCHEMA_GRAPHQL,
        &[
            r#"Type "type Order" #Order names=["Order"] parent=None level=0 2..=12 refs=["Node", "Timestamped", "ItemStatus", "LineItem", "Customer", "Money"]"#,
            r#"Enum "enum Status" #Status names=["Status"] parent=None level=0 14..=19 refs=[]"#,
            r#"Type "union SearchResult" #SearchResult names=["SearchResult"] parent=None level=0 21..=21 refs=["Order", "Customer"]"#,
            r#"Type "input NewOrder" #NewOrder names=["NewOrder"] parent=None level=0 23..=28 refs=["NewItem", "Status", "MetaInput"]"#,
            r#"Type "scalar Money" #Money names=["Money"] parent=None level=0 30..=31 refs=[]"#,
            r#"Type "interface Node" #Node names=["Node"] parent=None level=0 33..=35 refs=[]"#,
            r#"Type "extend type Order" #Order names=["Order"] parent=None level=0 37..=39 refs=["Note"]"#,
            r#"Type "directive @auth" #@auth names=["@auth"] parent=None level=0 41..=41 refs=["Role"]"#,
            r#"Type "schema" #schema names=[] parent=None level=0 43..=46 refs=["Query", "Mutation"]"#,
            r#"Type "type Query" #Query names=["Query"] parent=None level=0 48..=51 refs=["Order", "SearchResult"]"#,
        ],
    );
    assert_eq!(
        sections[1].text,
        "\"Status of an order.\"\nenum Status {\n  OPEN\n  SHIPPED @deprecated(reason: \"use DONE\")\n  DONE\n}"
    );
    assert_eq!(sections[4].text, "# Money in cents.\nscalar Money");
    assert!(sections[0]
        .text
        .starts_with("\"\"\"\nAn order placed by a customer.\n\"\"\"\ntype Order implements"));
    for section in &sections {
        assert_eq!(
            section.text,
            source_lines(SCHEMA_GRAPHQL, section.start_line, section.end_line)
        );
    }
}

#[test]
fn graphql_partial_and_one_line() {
    // An unclosed body runs to the end; what came before is kept.
    check(
        DocKind::GraphQl,
        "type A { a: B }\n\ntype C {\n  c: D\n\n# trailing\n",
        &[
            r#"Type "type A" #A names=["A"] parent=None level=0 0..=0 refs=["B"]"#,
            r#"Type "type C" #C names=["C"] parent=None level=0 2..=3 refs=["D"]"#,
        ],
    );
    // Queries end the definition before them but are not sections.
    check(
        DocKind::GraphQl,
        "scalar Date\nquery Q { a }\n\"\"\"doc \\\"\"\" quoted\"\"\" type T { d: Date }",
        &[
            r#"Type "scalar Date" #Date names=["Date"] parent=None level=0 0..=0 refs=[]"#,
            r#"Type "type T" #T names=["T"] parent=None level=0 2..=2 refs=["Date"]"#,
        ],
    );
}

#[test]
fn proto_file() {
    let sections = check(
        DocKind::Proto,
        ORDERS_PROTO,
        &[
            r#"Preamble "" # names=[] parent=None level=0 3..=11 refs=[]"#,
            r#"Message "message Order" #Order names=["Order", "Item"] parent=None level=0 13..=32 refs=["Timestamp", "Status", "Money", "Card"]"#,
            r#"Enum "enum Status" #Status names=["Status"] parent=None level=0 34..=39 refs=[]"#,
            r#"Message "message Money" #Money names=["Money"] parent=None level=0 41..=41 refs=[]"#,
            r#"Service "service Orders" #Orders names=["Orders", "GetOrder", "WatchOrders", "Ping"] parent=None level=0 43..=50 refs=["GetOrderRequest", "Order", "WatchRequest", "Empty"]"#,
        ],
    );
    assert!(sections[0]
        .text
        .starts_with("syntax = \"proto3\";\n\npackage shop.orders.v1;\n"));
    assert!(sections[0]
        .text
        .ends_with("option java_multiple_files = true;"));
    assert_eq!(
        sections[2].text,
        "/* The state\n   of an order. */\nenum Status {\n  STATUS_UNSPECIFIED = 0;\n  STATUS_OPEN = 1;\n}"
    );
    for section in &sections {
        assert_eq!(
            section.text,
            source_lines(ORDERS_PROTO, section.start_line, section.end_line)
        );
    }
}

#[test]
fn proto_partial_and_trailing_comments() {
    check(
        DocKind::Proto,
        "syntax = \"proto2\"; // trailing\n// Doc for A.\nmessage A {\n  optional B b = 1;\n} // end of A\nmessage C {\n  required A a = 1;\n",
        &[
            r#"Preamble "" # names=[] parent=None level=0 0..=0 refs=[]"#,
            r#"Message "message A" #A names=["A"] parent=None level=0 1..=4 refs=["B"]"#,
            r#"Message "message C" #C names=["C"] parent=None level=0 5..=6 refs=["A"]"#,
        ],
    );
    check(DocKind::Proto, "}}} message {", &[]);
}

/// A small deterministic generator (xorshift) for the no-panic tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ALL_KINDS: [DocKind; 4] = [
    DocKind::Markdown,
    DocKind::OpenApi,
    DocKind::GraphQl,
    DocKind::Proto,
];

/// Splits with every kind and checks the invariants that hold for any input.
fn split_everything(text: &str) {
    let all_lines = Lines::new(text);
    let line_count = all_lines.len() as u32;
    for kind in ALL_KINDS {
        let Ok(sections) = split(kind, text) else {
            continue;
        };
        let mut previous_start = 0;
        for (index, section) in sections.iter().enumerate() {
            assert!(
                section.start_line <= section.end_line,
                "{kind:?} {section:?}"
            );
            assert!(section.end_line < line_count.max(1), "{kind:?} {section:?}");
            assert!(
                section.start_line >= previous_start,
                "{kind:?} out of order"
            );
            previous_start = section.start_line;
            assert!(section.parent.is_none_or(|parent| parent < index));
            let lines = all_lines.slice(section.start_line as usize, section.end_line as usize);
            match kind {
                DocKind::Markdown => assert_eq!(section.text, lines),
                // A definition that shares its lines with another one is shown exactly.
                DocKind::GraphQl | DocKind::Proto => assert!(
                    section.text == lines || lines.contains(&section.text),
                    "{kind:?} {text:?} {section:?}"
                ),
                DocKind::OpenApi => {}
            }
        }
    }
    for path in ["a.md", "a.json", "a.yaml", "a.graphql", "a.proto"] {
        let _ = detect(path, text);
    }
}

#[test]
fn garbage_never_panics() {
    const PIECES: [&str; 48] = [
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "\"",
        "'",
        "\"\"\"",
        "#",
        "//",
        "/*",
        "*/",
        ":",
        "- ",
        "\n",
        "\r\n",
        "\t",
        " ",
        "   ",
        "---",
        "```",
        "~~~",
        "=",
        "\\",
        "<!--",
        "-->",
        "é",
        "💥",
        "a",
        "Z9",
        ",",
        "$ref: '#/components/schemas/X'",
        "message M",
        "type T",
        "enum",
        "service S",
        "rpc R(A) returns (B)",
        "get:",
        "paths:",
        "openapi: 3",
        "  /p:",
        "\"openapi\":",
        "# H",
        "===",
        "|",
        "@",
        "![x](y)",
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..3000 {
        let text: String = (0..rng.below(40))
            .map(|_| PIECES[rng.below(PIECES.len())])
            .collect();
        split_everything(&text);
    }
    for _ in 0..300 {
        let bytes: Vec<u8> = (0..rng.below(200))
            .map(|_| (rng.next() & 0xff) as u8)
            .collect();
        split_everything(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn truncated_fixtures_never_panic() {
    let minified = minify(PETSTORE_JSON);
    let fixtures = [
        README_MD,
        PETSTORE_YAML,
        PETSTORE_JSON,
        &minified,
        SWAGGER_YAML,
        SCHEMA_GRAPHQL,
        ORDERS_PROTO,
    ];
    for fixture in fixtures {
        for (cut, _) in fixture.char_indices().step_by(5) {
            split_everything(&fixture[..cut]);
            split_everything(&fixture[cut..]);
        }
    }
}

#[test]
fn large_inputs_take_linear_time() {
    let started = std::time::Instant::now();
    // Half a megabyte: enough for quadratic behaviour to take minutes.
    let megabyte = 1 << 19;
    let inputs = [
        format!("# {}", "[".repeat(megabyte)),
        format!("# {}", "<[](".repeat(megabyte / 4)),
        "# h\n".repeat(megabyte / 4),
        "`".repeat(megabyte),
        "{".repeat(megabyte),
        "\"".repeat(megabyte),
        "a:\n".repeat(megabyte / 3),
        (0..1500)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect(),
        format!(
            "openapi: 3\npaths:\n  /a:\n    get:\n{}",
            "      - $ref: '#/definitions/X'\n".repeat(20_000)
        ),
        "message A { B b = 1; ".repeat(megabyte / 20),
        "type A { a: [B!]! @d(x: 1) } ".repeat(megabyte / 30),
        "\n".repeat(megabyte),
        "x\r\n".repeat(megabyte / 3),
    ];
    for input in &inputs {
        split_everything(input);
    }
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn openapi_yaml_anchors_merge_keys_flow_mappings_and_block_scalars() {
    // A path item shared through an anchor, a merge key bringing shared responses, a flow
    // mapping holding an operation, a block scalar whose text looks like keys and refs,
    // comments everywhere, CRLF line ends.
    let text = "openapi: 3.1.0\r\n\
                x-shared: &shared\r\n\
                \x20 get:\r\n\
                \x20   operationId: listThings # a comment\r\n\
                \x20   responses: { '200': { $ref: '#/components/responses/Things' } }\r\n\
                paths:\r\n\
                \x20 /things: *shared\r\n\
                \x20 /other: {post: {operationId: makeOther, requestBody: {$ref: \"#/components/requestBodies/New\"}}}\r\n\
                \x20 /merged:\r\n\
                \x20   <<: *shared\r\n\
                \x20   delete:\r\n\
                \x20     description: |\r\n\
                \x20       get: not an operation\r\n\
                \x20       $ref: '#/components/schemas/Ghost'\r\n\
                \x20     # trailing comment\r\n\
                components:\r\n\
                \x20 schemas:\r\n\
                \x20   \"Quoted\\tName\": {type: string}\r\n";
    let sections = check(
        DocKind::OpenApi,
        text,
        &[
            r#"Operation "GET /things" #listThings names=["listThings", "/things"] parent=None level=0 2..=4 refs=["Things"]"#,
            r#"Operation "GET /merged" #listThings names=["listThings", "/merged"] parent=None level=0 2..=4 refs=["Things"]"#,
            r#"Operation "POST /other" #makeOther names=["makeOther", "/other"] parent=None level=0 7..=7 refs=["New"]"#,
            r#"Operation "DELETE /merged" #delete-merged names=["/merged"] parent=None level=0 10..=13 refs=[]"#,
            "Schema \"Quoted\\tName\" #Quoted\tName names=[\"Quoted\\tName\"] parent=None level=0 17..=17 refs=[]",
        ],
    );
    assert!(!sections[3].text.contains("trailing comment"), "{}", sections[3].text);
}

#[test]
fn invalid_or_too_deep_yaml_is_an_error_not_a_crash() {
    let broken = "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      summary: a\n        b: c\n";
    let error = split(DocKind::OpenApi, broken).unwrap_err();
    assert!(error.starts_with("invalid YAML at line"), "{error}");
    // tree-sitter-yaml's scanner aborts past about 250 indentation levels: refused first.
    let mut deep = String::from("openapi: 3.0.0\n");
    for level in 0..400 {
        deep.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
    }
    let error = split(DocKind::OpenApi, &deep).unwrap_err();
    assert!(error.contains("nested too deeply"), "{error}");
    let dashes = format!("openapi: 3.0.0\nx:\n{}a\n", "- ".repeat(300));
    assert!(split(DocKind::OpenApi, &dashes).is_err());
    assert_eq!(detect("deep.yaml", &deep), None);
}

#[test]
fn a_yaml_document_past_line_32767_is_split_whole() {
    // The published scanner kept its row in 16 bits: past line 32,767 everything failed.
    let mut text = String::from("openapi: 3.0.0\npaths:\n");
    for i in 0..9_000 {
        text.push_str(&format!("  /p{i}:\n    get:\n      operationId: op{i}\n      responses: {{'200': {{description: ok}}}}\n"));
    }
    let sections = split(DocKind::OpenApi, &text).unwrap();
    assert_eq!(sections.len(), 9_000);
    let last = sections.last().unwrap();
    assert_eq!((last.anchor.as_str(), last.start_line, last.end_line), ("op8999", 35_999, 36_001));
}
