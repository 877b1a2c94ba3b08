// Tables of well-known facts for the `twohop` generator (METHODS.md section 4: a two-hop set
// over facts a small model is likely to know). Each table's source is cited where it is
// defined. Names are in their usual English form; `subject` is the form used inside a
// sentence ("the Netherlands"), `name` the bare answer ("Netherlands").
#pragma once
#include <string>
#include <vector>

namespace rs::data::facts {

struct Country {
  std::string name;       // "Netherlands"
  std::string subject;    // "the Netherlands"
  std::string capital;    // "Amsterdam"
  std::string language;   // the single official language; "" when there are several
  std::string currency;   // "euro"
  std::string continent;  // ""  for transcontinental countries (Russia, Turkey)
};

struct City {
  std::string name;     // "Lyon"
  std::string country;  // a Country::name
};

struct Organisation {
  std::string name;     // "FIFA", "the United Nations"
  std::string hq_city;  // a City::name
};

struct Landmark {
  std::string name;     // "the Eiffel Tower"
  std::string country;  // a Country::name
};

const std::vector<Country>& countries();
const std::vector<City>& cities();
const std::vector<Organisation>& organisations();
const std::vector<Landmark>& landmarks();

// Lookups by name; nullptr when absent.
const Country* find_country(const std::string& name);
const City* find_city(const std::string& name);

}  // namespace rs::data::facts
